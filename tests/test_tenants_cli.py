"""Every CLI command, run as tenant ``a`` against tenant ``b``'s entry, GP and data: not found or
no effect on ``b``, and nothing of ``b`` in what ``a`` prints, writes or sends (PostgreSQL, one
schema per tenant)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mailbot.cli import build_parser
from mailbot.jobs.schedule import load_all
from tests.tenants_support import BLOCKED, Tenants, fingerprint, ref_of
from tests.test_matching_support import gp_email, rpps

AT = "2026-11-02T08:00"
LEAKS = ("TENANTB", "GP2", gp_email(2), BLOCKED)  # what only tenant b knows
Run = tuple[list[str], set[int]]


def leaf_commands() -> list[str]:
    """Every command of the parser, as typed (``entries show``, ``gps pause``…)."""
    found: list[str] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*prefix, name])
                return
        found.append(" ".join(prefix))

    walk(build_parser(), [])
    return found


def scenarios(root: Path, ref_b: str) -> dict[str, Callable[[], list[Run]]]:
    """For each command: the calls tenant ``a`` makes aiming at ``b``, and the exit codes allowed."""
    gps_csv = root / "medecins.csv"
    gps_csv.write_text("RPPS;Nom;Prénom;Adresse MSSanté;Codes postaux;Capacité par mois\n"
                       f"{rpps(4)};Quatre;Luc;dr.gp4@medecin.mssante.fr;16000;2\n", encoding="utf-8")
    waitlist = root / "liste.csv"
    waitlist.write_text("Nom;Prénom;DDN;Tél;CP;Ville;Date d'inscription;Statut\n"
                        "IMPORTE;Luc;05/05/1939;0611000001;16000;Angoulême;01/09/2023;en attente\n",
                        encoding="utf-8")
    key = root / "cle.asc"
    key.write_text("pas une clé\n", encoding="utf-8")
    out = str(root / "sortie")
    missing = {2}
    return {
        "init": lambda: [(["init"], {0})],
        "doctor": lambda: [(["doctor"], {0, 1})],
        "demo": lambda: [(["demo", "--dir", str(root / "demo")], {0})],
        "run": lambda: [(["run", "--once"], {0})],
        "entries list": lambda: [(["entries", "list"], {0})],
        "entries show": lambda: [(["entries", "show", ref_b], missing)],
        "entries export": lambda: [(["entries", "export", "--format", "csv", "--output", out], {0})],
        "entries status": lambda: [(["entries", "status", ref_b], missing)],
        "entries close": lambda: [(["entries", "close", ref_b, "--reason", "retrait"], missing)],
        "entries reopen": lambda: [(["entries", "reopen", ref_b], missing)],
        "entries prioritize": lambda: [(["entries", "prioritize", ref_b], missing)],
        "entries resend": lambda: [(["entries", "resend", ref_b], missing)],
        "entries complete": lambda: [(["entries", "complete", ref_b, "--line", "Commune : Cognac"],
                                      missing)],
        "entries propose": lambda: [(["entries", "propose", ref_b, "--gp", rpps(1)], missing)],
        "jobs list": lambda: [(["jobs", "list"], {0})],
        "jobs run": lambda: [(["jobs", "run", name, "--at", AT], {0}) for name in load_all()],
        "audit verify": lambda: [(["audit", "verify"], {0})],
        "audit show": lambda: [(["audit", "show", ref_b], missing)],
        "calls list": lambda: [(["calls", "list", "--all", "--output", out], {0})],
        "calls record": lambda: [(["calls", "record", ref_b, "--outcome", "found"], missing)],
        "gps list": lambda: [(["gps", "list"], {0})],
        "gps show": lambda: [(["gps", "show", rpps(2)], missing)],
        "gps add": lambda: [(["gps", "add", "--rpps", rpps(3), "--nom", "Trois", "--prenom", "Ana",
                              "--email", "dr.gp3@medecin.mssante.fr", "--cp", "16000"], {0})],
        "gps set": lambda: [(["gps", "set", rpps(2), "--capacite", "9"], missing)],
        "gps pause": lambda: [(["gps", "pause", rpps(2)], missing)],
        "gps resume": lambda: [(["gps", "resume", rpps(2)], missing)],
        "gps fairness": lambda: [(["gps", "fairness", "--format", "json"], {0})],
        "gps import": lambda: [(["gps", "import", str(gps_csv)], {0})],
        "stats": lambda: [(["stats", "--format", "json", "--at", AT], {0}),
                          (["stats", "--format", "html", "--output", out], {0})],
        "import": lambda: [(["import", str(waitlist), "--at", AT], {0})],
        "senders blocked": lambda: [(["senders", "blocked"], {0})],
        "senders unblock": lambda: [(["senders", "unblock", BLOCKED], missing)],
        "keys import": lambda: [(["keys", "import", str(key)], {2})],
        "keys list": lambda: [(["keys", "list"], {2})],
        "keys remove": lambda: [(["keys", "remove", BLOCKED], {2})],
        "retention": lambda: [(["retention"], {0})],
        "patient export": lambda: [(["patient", "export", ref_b, "--output", out], missing)],
        "patient erase": lambda: [(["patient", "erase", ref_b, "--yes"], missing)],
        "form pdf": lambda: [(["form", "pdf", "--output", out], {0})],
        "tenants list": lambda: [(["tenants", "list"], {0})],
        "tenants check": lambda: [(["tenants", "check"], {0})],
    }



def test_the_scenarios_cover_every_command_of_the_parser(tmp_path: Path) -> None:
    assert sorted(scenarios(tmp_path, "E-XXXXXX")) == sorted(leaf_commands())


def _leaked(text: str, argv: tuple[str, ...] | list[str] = ()) -> list[str]:
    """What only b knows found in ``text`` (a word of the command line may be echoed)."""
    typed = " ".join(argv).lower()
    return [word for word in LEAKS if word.lower() in text.lower() and word.lower() not in typed]


def test_no_command_of_tenant_a_reads_or_changes_tenant_b(tenants: Tenants, tmp_path: Path) -> None:
    ref_b = ref_of(tenants.b, "TENANTB")
    before = fingerprint(tenants.b)
    output = tmp_path / "sortie"
    for command, calls in scenarios(tmp_path, ref_b).items():
        for argv, codes in calls():
            output.unlink(missing_ok=True)
            code, printed = tenants.cli("a", *argv)
            assert code in codes, (argv, code, printed)
            assert not _leaked(printed, argv), (argv, printed)
            if output.exists():
                assert not _leaked(output.read_bytes().decode("utf-8", "replace")), argv
            assert fingerprint(tenants.b) == before, f"« mailbot {command} » changed tenant b"
    sent = "".join(p.read_bytes().decode("utf-8", "replace") for p in
                   (tenants.a.outbox_dir / "new").iterdir())
    assert sent and not _leaked(sent)  # a's digest, proposals… mention nothing of b
    # The same calls aimed at a's own data do act (the scenarios can fail): b's ref is unknown to a.
    code, printed = tenants.cli("b", "entries", "show", ref_b)
    assert code == 0 and "TENANTB" in printed


def test_a_gp_registered_in_both_tenants_is_paused_in_one_only(tenants: Tenants) -> None:
    assert tenants.cli("a", "gps", "pause", rpps(1))[0] == 0
    assert "pause" in tenants.cli("a", "gps", "show", rpps(1))[1].lower()
    code, shown = tenants.cli("b", "gps", "show", rpps(1))
    assert code == 0 and "en pause" not in shown.lower()
    code, listed = tenants.cli("a", "gps", "list", "--format", "json")
    assert code == 0 and "GP2" not in listed and "GP1" in listed
