"""Local checks of ``mailbot doctor``: database, Maildir folders, senders, mail templates."""

from __future__ import annotations

import os

from sqlalchemy.exc import SQLAlchemyError

from mailbot.app import App
from mailbot.config import MaildirInboundConfig, MaildirRouteConfig
from mailbot.daemon.leader import holder
from mailbot.doctor.check import Check
from mailbot.doctor.samples import render_all
from mailbot.transports.maildir import is_maildir
from store.db import DatabaseError


def database_checks(app: App) -> list[Check]:
    try:
        app.db.check_current()
    except DatabaseError as error:
        return [Check("base de données", False, str(error), "mailbot init")]
    return [Check("base de données", True, f"révision {app.db.current_revision()}")]


def leader_checks(app: App) -> list[Check]:
    """PostgreSQL: which ``mailbot run`` reads the mailbox (the inbound leader)."""
    if not app.db.is_postgres:
        return []
    try:
        who = holder(app)
    except SQLAlchemyError as error:
        return [Check("relève de la boîte", False, f"base injoignable ({type(error).__name__})")]
    if who is None:
        return [Check("relève de la boîte", True, "aucun « mailbot run » ne la relève en ce moment")]
    name, since = who
    when = f" depuis le {since:%d/%m/%Y %H:%M}" if since else ""
    return [Check("relève de la boîte", True, f"par « mailbot run » {name} (processus@machine){when}")]


def folders_checks(app: App) -> list[Check]:
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


def senders_checks(app: App) -> list[Check]:
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


def templates_checks(app: App) -> list[Check]:
    failures = render_all(app)
    if failures:
        return [Check("modèles de message", False, "; ".join(failures),
                      "corrigez les modèles du dossier [templates] path")]
    return [Check("modèles de message", True, "tous les modèles se produisent")]
