"""Running every check of ``mailbot doctor`` and printing what to fix, in French (or JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mailbot.app import App
from mailbot.doctor.certificates import certificate_checks
from mailbot.doctor.check import Check
from mailbot.doctor.connections import connection_checks
from mailbot.doctor.gpg import gpg_checks
from mailbot.doctor.health import current_health, health_checks
from mailbot.doctor.holders import holders, holders_lines
from mailbot.doctor.local import (
    database_checks,
    folders_checks,
    leader_checks,
    senders_checks,
    templates_checks,
)
from mailbot.doctor.servers import dns_checks, identity_checks, state_checks
from mailbot.errors import MailbotError
from store.health import Health

CHECKS: list[Callable[[App], list[Check]]] = [
    database_checks, leader_checks, folders_checks, senders_checks, templates_checks, gpg_checks,
    dns_checks, certificate_checks, connection_checks, state_checks, identity_checks,
]


def _as_json(results: list[Check], code: int, health: Health | None, app: App) -> str:
    held = _holders(app)
    return json.dumps({
        "ok": code == 0, "exit_code": code,
        "checks": [{"name": r.name, "ok": r.ok, "warning": r.warning, "detail": r.detail,
                    "fix": "" if r.ok else r.fix} for r in results],
        "health": health.as_dict() if health is not None else None,
        "holders": held,
    }, ensure_ascii=False, indent=2)


def _holders(app: App) -> dict[str, Any] | None:
    """Who holds what (:mod:`mailbot.doctor.holders`), or None when the database cannot
    tell (not created, unreachable: its check says why)."""
    try:
        app.db.check_current()
        return holders(app)
    except Exception:
        return None


def run_checks(app: App, *, as_json: bool = False) -> int:
    """Print every check; exit code 0 when all pass, else the highest ``exit_code`` of the
    failed checks (1: something must be fixed, 2: the configuration is wrong).

    ``as_json``: one JSON object instead (checks, and the health counters monitoring
    alerts on: ``health``, see docs/deployment.md; who holds what: ``holders``, ``null``
    when the database cannot be read).
    """
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.extend(check(app))
        except MailbotError as error:
            results.append(Check(check.__name__.removesuffix("_checks"), False, str(error),
                                 exit_code=error.exit_code))
    health = current_health(app)  # read once: the warnings and the JSON counters
    results.extend(health_checks(health))
    failed = sum(1 for r in results if not r.ok and not r.warning)
    code = max((r.exit_code for r in results if not r.ok and not r.warning), default=0)
    if as_json:
        print(_as_json(results, code, health, app))
        return code
    for result in results:
        mark = "OK " if result.ok else ("ATTENTION" if result.warning else "ERREUR")
        print(f"[{mark}] {result.name} : {result.detail}")
        if not result.ok and result.fix:
            print(f"        → {result.fix}")
    held = _holders(app)
    if held is not None:
        print("\n".join(holders_lines(held)))
    print("Tout est en ordre." if not failed else f"{failed} problème(s) à corriger.")
    return code
