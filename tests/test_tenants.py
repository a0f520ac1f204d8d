"""Tenants: ``--tenant NAME`` reads ``<tenants folder>/NAME.toml``; ``tenants list|check`` refuse
two tenants sharing a database schema, a SQLite file, a mailbox or an identity address; logs name
the tenant; advisory locks (jobs, audit chain) are per schema."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mailbot.app import App
from mailbot.cli import main
from mailbot.config.minimal import merged, minimal_sections, render_toml
from mailbot.config.tenants import load_tenant, tenants_dir
from mailbot.jobs.schedule import _job_lock, run_job
from store import audit
from tests.conftest import PG_URL
from tests.helpers import ROOT, wait_until
from tests.tenants_support import schemas
from tests.test_intake_e2e import COMPLETE, DAC, mail


def cli(*args: str) -> tuple[int, str]:
    """The command line in-process: exit code, stdout + stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as stop:
            code = int(stop.code or 0)
    return code, out.getvalue() + err.getvalue()


def write(folder: Path, name: str, **extra: dict[str, Any]) -> Path:
    """Tenant ``name`` in ``folder``: a SQLite file and Maildir folders of its own unless ``extra``
    replaces those sections."""
    folder.mkdir(exist_ok=True)
    sections = merged(minimal_sections({"url": f"sqlite:///var/{name}.db"}), {
        "identity": {"address": f"liste-attente@cpts-{name}.mssante.fr", "name": f"CPTS {name}"},
        "inbound": {"transport": "maildir", "path": f"var/{name}/inbox"},
        "outbound": {"transport": "maildir", "path": f"var/{name}/outbox"}})
    sections.update(extra)
    path = folder / f"{name}.toml"
    path.write_text(render_toml(sections), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "tenants", "nord")
    write(tmp_path / "tenants", "sud")
    return tmp_path / "tenants"


def test_tenant_selects_its_file_and_init_creates_its_own_database(folder: Path) -> None:
    assert cli("--tenants-dir", str(folder), "--tenant", "sud", "init")[0] == 0
    assert (folder / "var" / "sud.db").exists() and not (folder / "var" / "nord.db").exists()
    assert (folder / "var" / "sud" / "inbox" / "new").is_dir()
    code, out = cli("--tenants-dir", str(folder), "--tenant", "sud", "entries", "list")
    assert code == 0, out
    assert load_tenant("sud", folder).tenant == "sud"


def test_an_unknown_tenant_is_refused_in_french_with_the_known_ones(folder: Path) -> None:
    code, out = cli("--tenants-dir", str(folder), "--tenant", "est", "entries", "list")
    assert code == 2
    assert "territoire « est » inconnu" in out and "territoires connus : nord, sud" in out
    assert "Traceback" not in out
    code, out = cli("--tenants-dir", str(folder), "--tenant", "../nord", "entries", "list")
    assert code == 2 and "nom de territoire « ../nord » invalide" in out
    code, out = cli("--tenants-dir", str(folder / "absent"), "--tenant", "nord", "entries", "list")
    assert code == 2 and "aucun territoire dans" in out


def test_config_and_tenant_together_are_refused(folder: Path) -> None:
    code, out = cli("--config", str(folder / "nord.toml"), "--tenants-dir", str(folder), "--tenant",
                    "nord", "entries", "list")
    assert code == 2 and "--config et --tenant s'excluent" in out


def test_the_tenants_folder_comes_from_the_option_the_environment_or_beside_the_config(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBOT_TENANTS_DIR", raising=False)
    monkeypatch.delenv("MAILBOT_CONFIG", raising=False)
    assert tenants_dir(None) == Path("tenants")
    monkeypatch.setenv("MAILBOT_CONFIG", "/etc/mailbot/mailbot.toml")
    assert tenants_dir(None) == Path("/etc/mailbot/tenants")
    monkeypatch.setenv("MAILBOT_TENANTS_DIR", str(folder))
    assert tenants_dir(None) == folder and tenants_dir("/srv/t") == Path("/srv/t")
    assert cli("--tenant", "nord", "init")[0] == 0
    code, out = cli("tenants", "list")
    assert code == 0
    assert out.splitlines()[0].startswith("nord — CPTS nord <liste-attente@cpts-nord.mssante.fr>")
    assert out.splitlines()[1].startswith("sud — ") and len(out.splitlines()) == 2
    assert cli("tenants", "check") == (0, f"2 territoire(s) vérifié(s) dans {folder} : chaque fichier "
                                           "est valide et aucun ne partage sa base, son schéma, ses "
                                           "boîtes ou son adresse.\n")


def _refused(folder: Path, key: str) -> str:
    code, out = cli("--tenants-dir", str(folder), "tenants", "check")
    assert code == 2, out
    assert f"clé « {key} »" in out, out
    assert "nord" in out and str(folder / "nord.toml") in out and str(folder / "sud.toml") in out
    # The tenant itself refuses to start, whatever the command.
    code, again = cli("--tenants-dir", str(folder), "--tenant", "sud", "run", "--once")
    assert code == 2 and f"clé « {key} »" in again
    return out


@pytest.mark.parametrize(("extra", "key"), [
    ({"database": {"url": "sqlite:///var/nord.db"}}, "database.url"),
    ({"database": {"url": "sqlite:///./var/../var/nord.db"}}, "database.url"),
    ({"identity": {"address": "Liste-Attente@CPTS-nord.mssante.fr", "name": "Sud"}}, "identity.address"),
    ({"inbound": {"transport": "maildir", "path": "var/nord/inbox"}}, "inbound.path"),
    ({"outbound": {"transport": "maildir", "path": "var/nord/inbox"}}, "outbound.path"),
    ({"gpg": {"home": "gnupg"}}, "gpg.home"),
])
def test_two_tenants_sharing_a_file_a_mailbox_or_an_address_are_refused(
        folder: Path, extra: dict[str, dict[str, Any]], key: str) -> None:
    if key == "gpg.home":
        write(folder, "nord", gpg={"home": "gnupg"})
    write(folder, "sud", **extra)
    _refused(folder, key)


@pytest.mark.parametrize(("nord", "sud"), [
    ({"url": PG_URL, "schema": "cpts"}, {"url": PG_URL.replace("127.0.0.1", "localhost"), "schema": "cpts"}),
    ({"url": PG_URL}, {"url": PG_URL, "schema": "public"}),
])
def test_two_tenants_on_one_postgresql_schema_are_refused(folder: Path, nord: dict[str, str],
                                                           sud: dict[str, str]) -> None:
    write(folder, "nord", database=nord)
    write(folder, "sud", database=sud)
    out = _refused(folder, "database.schema")
    assert "la même base PostgreSQL et le même schéma" in out


def test_two_schemas_of_one_postgresql_database_are_two_tenants(folder: Path) -> None:
    write(folder, "nord", database={"url": PG_URL, "schema": "cpts_nord"})
    write(folder, "sud", database={"url": PG_URL, "schema": "cpts_sud"})
    assert cli("--tenants-dir", str(folder), "tenants", "check")[0] == 0
    code, out = cli("--tenants-dir", str(folder), "tenants", "list")
    assert code == 0 and "PostgreSQL, schéma cpts_nord" in out and "postgres@" not in out


def test_imap_tenants_keep_their_state_in_a_file_of_their_own(folder: Path) -> None:
    imap = {"transport": "imap", "host": "imap.mssante.fr", "port": 143, "tls": "starttls"}
    write(folder, "nord", inbound={**imap, "user": "nord@cpts.mssante.fr"})
    write(folder, "sud", inbound={**imap, "user": "sud@cpts.mssante.fr"})
    assert cli("--tenants-dir", str(folder), "tenants", "check")[0] == 0
    state = load_tenant("sud", folder).inbound.state_file  # type: ignore[union-attr]
    assert state == folder / "sud.imap-state.json"
    write(folder, "sud", inbound={**imap, "user": "NORD@cpts.mssante.fr"})
    _refused(folder, "inbound.user")


def test_every_log_line_names_the_tenant(folder: Path) -> None:
    assert cli("--tenants-dir", str(folder), "--tenant", "nord", "init")[0] == 0
    inbox = folder / "var" / "nord" / "inbox" / "new"
    (inbox / "1.eml").write_bytes(mail(DAC, COMPLETE, message_id="log-1@dac16.mssante.fr"))
    code, out = cli("--tenants-dir", str(folder), "--tenant", "nord", "-v", "run", "--once")
    assert code == 0
    lines = [line for line in out.splitlines() if " INFO " in line]
    assert lines and all(" INFO [nord] " in line for line in lines), out
    (inbox / "2.eml").write_bytes(mail(DAC, COMPLETE, message_id="log-2@dac16.mssante.fr"))
    code, out = cli("--tenants-dir", str(folder), "--tenant", "nord", "-v", "run", "--once",
                    "--log-format", "json")
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert records and {r["tenant"] for r in records} == {"nord"}
    logging.getLogger().handlers.clear()


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, App]]:
    with schemas() as made:
        built = {}
        for name, schema in made.items():
            sections = merged(minimal_sections({"url": PG_URL, "schema": schema}), {})
            from mailbot.config import parse_config

            built[name] = App.from_config(parse_config(sections))
        yield built
        for app in built.values():
            app.db.dispose()


def test_a_job_running_in_one_tenant_does_not_block_the_same_job_in_another(apps: dict[str, App]) -> None:
    with _job_lock(apps["a"], "retention") as mine:
        assert mine
        assert run_job(apps["b"], "retention") != "déjà en cours sur une autre instance"
        other = App.from_config(apps["a"].config)
        try:
            assert run_job(other, "retention") == "déjà en cours sur une autre instance"
        finally:
            other.db.dispose()


def test_audit_appends_of_two_tenants_do_not_wait_on_each_other(apps: dict[str, App]) -> None:
    with apps["a"].db.transaction() as holding:
        audit.record(holding, actor="test", action="tenant.a", object_type="test")
        with apps["b"].db.transaction() as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(other, actor="test", action="tenant.b", object_type="test")
            other.flush()
        second = App.from_config(apps["a"].config)
        try:
            with pytest.raises(OperationalError), second.db.transaction() as same:
                same.execute(text("SET LOCAL lock_timeout = '300ms'"))
                audit.record(same, actor="test", action="tenant.a2", object_type="test")
                same.flush()
        finally:
            second.db.dispose()


def test_one_daemon_per_tenant_each_answers_its_own_mailbox_and_logs_its_name(folder: Path) -> None:
    daemons = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("nord", "sud"):
        write(folder, name, inbound={"transport": "maildir", "path": f"var/{name}/inbox",
                                     "poll_seconds": 0.2},
              jobs={"schedules": {"outbox": "* * * * *"}})
        assert cli("--tenants-dir", str(folder), "--tenant", name, "init")[0] == 0
    for name in ("nord", "sud"):
        daemons[name] = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "--tenants-dir", str(folder), "--tenant", name, "run",
             "--log-format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    outbox = {name: folder / "var" / name / "outbox" / "new" for name in daemons}
    try:
        (folder / "var" / "nord" / "inbox" / "new" / "1.eml").write_bytes(
            mail(DAC, COMPLETE, message_id="daemon-nord@dac16.mssante.fr"))
        assert wait_until(lambda: len(list(outbox["nord"].iterdir())) == 1), "nord did not answer"
        daemons["nord"].send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert list(outbox["sud"].iterdir()) == []  # sud's daemon never saw nord's mail
        assert all(proc.poll() is None for proc in daemons.values())
    finally:
        errors = {}
        for name, proc in daemons.items():
            proc.send_signal(signal.SIGTERM)
            errors[name] = proc.communicate(timeout=30)[1]
    for name, err in errors.items():
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert records and {r.get("tenant") for r in records} == {name}, err
    assert "configuration reloaded" in errors["nord"]
