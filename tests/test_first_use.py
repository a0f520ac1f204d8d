"""A coordinator's first hour, as she would live it: the demo, then each command it prints,
pasted as printed, then a few mistakes. Everything she reads is French."""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# English that must never reach her: argparse's own texts, internal status keys, log lines.
ENGLISH = re.compile(
    r"(?<!d')\busage\b|positional arguments|optional arguments|show this help|\berror:|"
    r"\bwaiting\b|\bincomplete\b|\bprocessed\b|\bquarantined\b|\bduplicate\b|\bignored\b|"
    r"\bescalated\b|\bsent\b|\bcreated\b|\bcompleted\b|\bINFO\b|\bWARNING\b|unrecognized|"
    r"invalid choice|\brequired\b|\bexpected\b|Traceback")


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("MAILBOT_DEBUG", None)
    env.pop("MAILBOT_CONFIG", None)
    return env


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300)


def _french(proc: subprocess.CompletedProcess[str]) -> None:
    for stream in (proc.stdout, proc.stderr):
        found = ENGLISH.search(stream)
        assert found is None, f"« {found and found[0]} » in:\n{stream}"


def test_the_demo_then_each_command_it_prints_as_printed(tmp_path: Path) -> None:
    demo = _run([sys.executable, "-m", "mailbot", "demo", "--dir", "essai"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""  # no log line
    _french(demo)
    assert "En attente" in demo.stdout and "traité" in demo.stdout
    printed = demo.stdout.split("Commandes à essayer (copier-coller) :\n")[1].splitlines()
    commands = [line.strip() for line in printed if line.startswith("  ")]
    assert len(commands) >= 4
    assert all("--config essai/mailbot.toml" in c for c in commands)  # relative, as she is here
    assert "source " in demo.stdout  # how to type just "mailbot"
    for command in commands:
        proc = _run(shlex.split(command), tmp_path)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
        assert proc.stderr == "", command  # no log line in normal use
        _french(proc)
    base = shlex.split(commands[0])[:-2]  # ".../mailbot --config essai/mailbot.toml"

    exported = tmp_path / "liste.csv"
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert {"Référence", "État", "Nom", "Prénom", "Date de naissance", "Commune"} <= set(rows[0])
    assert {r["Commune"] for r in rows} == {"Angoulême"}
    assert {r["État"] for r in rows} == {"En attente"}

    shown = _run([*base, "entries", "show", rows[0]["Référence"]], tmp_path)
    assert "Historique" in shown.stdout and "inscription créée" in shown.stdout
    assert re.search(r"\b0\d( \d\d){4}\b", shown.stdout)  # 06 12 34 56 78

    for wrong, french in ((["entries", "list", "--bogus"], "arguments non reconnus"),
                          (["entries", "show"], "arguments obligatoires manquants"),
                          (["entries", "list", "--status", "perdue"], "état inconnu"),
                          (["stats", "--format", "pdf"], "choix invalide")):
        proc = _run([*base, *wrong], tmp_path)
        assert proc.returncode == 2 and french in proc.stderr, proc.stderr
        assert proc.stderr.startswith("utilisation : ")
        _french(proc)
    for helped in (["--help"], ["entries", "export", "--help"], ["import", "--help"]):
        proc = _run([*base, *helped], tmp_path)
        assert "affiche cette aide et quitte" in proc.stdout
        _french(proc)

    sheet = tmp_path / "liste-attente.csv"
    sheet.write_text("Nom;Prénom;Date de naissance;Téléphone;Commune;Accord\n"
                     "SANS;Lucie;31/02/1980;0612345678;Cognac;oui\n"
                     "NEANT;Paul;01/01/1950;0612345679;Angoulême;peut-être\n", encoding="utf-8")
    for trial in (["--dry-run"], []):
        proc = _run([*base, "import", str(sheet), *trial], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "« 31/02/1980 »" in proc.stdout and "« peut-être »" in proc.stdout
        assert "ligne     2" in proc.stdout and "ligne     3" in proc.stdout
        _french(proc)

    once = _run([*base, "run", "--once"], tmp_path)
    assert once.stderr == "" and "Messages reçus" in once.stdout
    quiet = _run([*base, "import", str(sheet)], tmp_path)
    assert "INFO" not in quiet.stderr
    verbose = _run([*base, "-v", "import", str(sheet)], tmp_path)
    assert "INFO" in verbose.stderr  # the journal, only when asked
