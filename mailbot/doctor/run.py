"""Running every check of ``mailbot doctor`` and printing what to fix, in French."""

from __future__ import annotations

from collections.abc import Callable

from mailbot.app import App
from mailbot.doctor.certificates import certificate_checks
from mailbot.doctor.check import Check
from mailbot.doctor.connections import connection_checks
from mailbot.doctor.gpg import gpg_checks
from mailbot.doctor.local import (
    database_checks,
    folders_checks,
    leader_checks,
    senders_checks,
    templates_checks,
)
from mailbot.doctor.servers import dns_checks, identity_checks, state_checks
from mailbot.errors import MailbotError

CHECKS: list[Callable[[App], list[Check]]] = [
    database_checks, leader_checks, folders_checks, senders_checks, templates_checks, gpg_checks,
    dns_checks, certificate_checks, connection_checks, state_checks, identity_checks,
]


def run_checks(app: App) -> int:
    """Print every check; exit code 0 when all pass, else the highest ``exit_code`` of the
    failed checks (1: something must be fixed, 2: the configuration is wrong)."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.extend(check(app))
        except MailbotError as error:
            results.append(Check(check.__name__.removesuffix("_checks"), False, str(error),
                                 exit_code=error.exit_code))
    failed = 0
    code = 0
    for result in results:
        mark = "OK " if result.ok else ("ATTENTION" if result.warning else "ERREUR")
        print(f"[{mark}] {result.name} : {result.detail}")
        if not result.ok and result.fix:
            print(f"        → {result.fix}")
        if not result.ok and not result.warning:
            failed += 1
            code = max(code, result.exit_code)
    print("Tout est en ordre." if not failed else f"{failed} problème(s) à corriger.")
    return code
