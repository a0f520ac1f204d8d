"""The command line as an administrator and a coordinator use it (real subprocesses)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, Bot


def test_init_is_idempotent_and_run_once_processes_the_inbox(bot: Bot) -> None:
    first = bot.cli("init")
    assert "déjà à jour" in first.stdout
    bot.drop_example("01-dac-text-form.eml")
    bot.drop_example("02-hospital-incomplete.eml")
    run = bot.cli("run", "--once")
    assert "Messages reçus : 2" in run.stdout
    assert "2 traité" in run.stdout
    listing = bot.cli("entries", "list")
    assert "DURAND" in listing.stdout and "Incomplète" in listing.stdout
    rows = json.loads(bot.cli("entries", "export", "--format", "json").stdout)
    assert {r["status"] for r in rows} == {"waiting", "incomplete"}
    ref = next(r["ref"] for r in rows if r["status"] == "waiting")
    shown = bot.cli("entries", "show", ref.lower())
    assert ref in shown.stdout and "inscription créée" in shown.stdout and "12/03/1948" in shown.stdout
    table = list(csv.DictReader(io.StringIO(bot.cli("entries", "export", "--format", "csv",
                                                    "--excel-compat", "false").stdout)))
    assert {r["ref"] for r in table} == {r["ref"] for r in rows}
    row = next(r for r in table if r["ref"] == ref)
    assert row["date_naissance"] == "1948-03-12" and row["ald"] == "true"


def test_show_unknown_reference_is_a_usage_error(bot: Bot) -> None:
    proc = bot.cli("entries", "show", "E-ZZZZZZ", check=False)
    assert proc.returncode == 2
    assert "E-ZZZZZZ" in proc.stderr and "Traceback" not in proc.stderr


def test_doctor_reports_ok_then_names_the_fix(bot: Bot) -> None:
    ok = bot.cli("doctor")
    assert "Tout est en ordre" in ok.stdout
    (bot.root / "var" / "inbox" / "new").rmdir()
    broken = bot.cli("doctor", check=False)
    assert broken.returncode == 1
    assert "mailbot init" in broken.stdout


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mailbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
[identity]
address = "liste-attente@cpts-exemple.mssante.fr"
name = "CPTS Exemple"
[database]
url = "sqlite:///var/mailbot.db"
[inbound]
transport = "maildir"
path = "var/inbox"
[outbound]
transport = "maildir"
path = "var/outbox"
"""


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MAILBOT_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "mailbot", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env=env)
    return proc.returncode, proc.stdout, proc.stderr


def test_bad_configurations_exit_2_naming_file_key_and_fix(tmp_path: Path) -> None:
    cases = {
        MINIMAL + "[senders]\npartner = [\"x.fr\"]\n": ("senders.partner", "clé inconnue"),
        MINIMAL.replace('transport = "maildir"\npath = "var/inbox"', 'transport = "pop3"'):
            ("inbound.transport", "maildir"),
        MINIMAL + "[limits]\nreplies_per_sender_per_hour = \"beaucoup\"\n":
            ("limits.replies_per_sender_per_hour", "beaucoup"),
        MINIMAL.replace('address = "liste-attente@cpts-exemple.mssante.fr"\n', ""):
            ("identity.address", "obligatoire"),
        MINIMAL + "[intake\n": ("mailbot.toml", "TOML"),
        MINIMAL + "[intake]\npostal_codes = [\"1600\"]\n": ("intake.postal_codes", "1600"),
    }
    for text, (key, hint) in cases.items():
        path = _write(tmp_path, text)
        code, out, err = _run(tmp_path, "--config", str(path), "doctor")
        assert code == 2, (text, out, err)
        assert key in err and hint in err, err
        assert "mailbot.toml" in err
        assert "Traceback" not in err


def test_missing_configuration_file_says_how_to_start(tmp_path: Path) -> None:
    code, _out, err = _run(tmp_path, "run", "--once")
    assert code == 2
    assert "mailbot.toml" in err and "config.example.toml" in err and "Traceback" not in err


def test_config_from_environment_variable_and_uninitialised_database(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    proc = subprocess.run([sys.executable, "-m", "mailbot", "entries", "list"], capture_output=True,
                          text=True, cwd="/", env={**os.environ, "MAILBOT_CONFIG": str(path), "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1
    assert "mailbot init" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_walks_through_and_says_where_to_look(tmp_path: Path) -> None:
    code, out, err = _run(tmp_path, "demo", "--dir", str(tmp_path / "demo"))
    assert code == 0, err
    assert "Premier passage" in out and "Second passage" in out
    assert "en quarantaine" in out and "doublon" in out and "ignoré" in out
    assert "entries list" in out
    sent = list((tmp_path / "demo" / "var" / "outbox" / "new").iterdir())
    assert len(sent) == 4  # registered, incomplete, already registered, completed
    code, out, err = _run(tmp_path, "--config", str(tmp_path / "demo" / "mailbot.toml"), "entries", "export")
    rows = json.loads(out)
    assert sorted(r["status"] for r in rows) == ["waiting", "waiting"]


def test_each_command_is_registered_by_the_module_the_table_names() -> None:
    import argparse
    import importlib

    from mailbot.cli import COMMAND_MODULES, SUBCOMMAND_MODULES, build_parser, command_of

    registered: dict[str, str] = {}
    for module in SUBCOMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        registered.update(dict.fromkeys(sub.choices, module))
    assert registered == COMMAND_MODULES
    assert command_of(["--config", "x.toml", "-v", "run", "--once"]) == "run"
    assert command_of(["--config=x.toml", "entries", "list"]) == "entries"
    assert command_of(["--tenant", "nord", "--tenants-dir", "t", "run"]) == "run"
    assert command_of(["--tenant=nord", "--tenants-dir=t", "jobs", "list"]) == "jobs"
    assert command_of(["--help"]) is None and command_of([]) is None
    argv = ["--config", "x.toml", "run", "--once"]
    lean, full = build_parser(argv), build_parser()
    assert vars(lean.parse_args(argv)) == vars(full.parse_args(argv))
    choices = [a.choices for a in lean._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(choices[0]) == ["run"]


def test_a_usage_error_reads_the_same_with_one_command_loaded(
        capsys: pytest.CaptureFixture[str]) -> None:
    from mailbot.cli import build_parser

    outputs = []
    for parser in (build_parser(["run", "--bogus"]), build_parser()):
        with pytest.raises(SystemExit):
            parser.parse_args(["run", "--bogus"])
        outputs.append(capsys.readouterr().err)
    assert outputs[0] == outputs[1] and "--bogus" in outputs[0]
