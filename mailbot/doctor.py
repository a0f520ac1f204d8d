"""``mailbot doctor``: what is wrong, and how to fix it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from mailbot.app import App
from mailbot.config import MaildirInboundConfig, MaildirRouteConfig
from mailbot.errors import MailbotError
from mailbot.transports.maildir import is_maildir
from store.db import DatabaseError


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` or a problem with its fix.

    ``exit_code`` is what ``doctor`` exits with when this check fails: 1 for an
    operational problem, 2 for a configuration error (wrong certificate, refused
    login…), as everywhere in the CLI.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    exit_code: int = 1


def _database(app: App) -> list[Check]:
    try:
        app.db.check_current()
    except DatabaseError as error:
        return [Check("base de données", False, str(error), "mailbot init")]
    return [Check("base de données", True, f"révision {app.db.current_revision()}")]


def _folders(app: App) -> list[Check]:
    checks = []
    inbound = app.config.inbound
    if isinstance(inbound, MaildirInboundConfig):
        ok = is_maildir(inbound.path)
        checks.append(Check("boîte de réception (Maildir)", ok, str(inbound.path),
                            "" if ok else "mailbot init (crée les dossiers cur/ new/ tmp/)"))
    for route in [app.config.outbound.default_route(), *app.config.outbound.routes]:
        if isinstance(route, MaildirRouteConfig):
            ok = is_maildir(route.path) and os.access(route.path / "new", os.W_OK)
            checks.append(Check("envoi (Maildir)", ok, str(route.path),
                                "" if ok else "mailbot init, puis vérifiez les droits d'écriture"))
    return checks


def _senders(app: App) -> list[Check]:
    senders = app.config.senders
    return [
        Check("partenaires", bool(senders.partners or senders.allow),
              f"{len(senders.partners)} partenaire(s)",
              "ajoutez [senders] partners = [\"domaine.mssante.fr\", …] : sans partenaire, "
              "aucune fiche n'est acceptée", warning=True),
        Check("coordinateurs", bool(senders.coordinators),
              f"{len(senders.coordinators)} coordinateur(s)",
              "ajoutez [senders] coordinators = [\"coordination@…\"] : personne ne recevrait les "
              "alertes", warning=True),
    ]


def _templates(app: App) -> list[Check]:
    from mailbot.template_samples import render_all

    failures = render_all(app)
    if failures:
        return [Check("modèles de message", False, "; ".join(failures),
                      "corrigez les modèles du dossier [templates] path")]
    return [Check("modèles de message", True, "tous les modèles se produisent")]


CHECKS: list[Callable[[App], list[Check]]] = [_database, _folders, _senders, _templates]


def extra_checks() -> list[Callable[[App], list[Check]]]:
    """Checks contributed by optional transports (IMAP/SMTP), when present."""
    try:
        from mailbot.transports.checks import CHECKS as TRANSPORT_CHECKS
    except ImportError:
        return []
    return list(TRANSPORT_CHECKS)


def run_checks(app: App) -> int:
    """Print every check; exit code 0 when all pass, else the highest ``exit_code`` of the
    failed checks (1: something must be fixed, 2: the configuration is wrong)."""
    results: list[Check] = []
    for check in [*CHECKS, *extra_checks()]:
        try:
            results.extend(check(app))
        except MailbotError as error:
            results.append(Check(check.__name__.strip("_"), False, str(error),
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
