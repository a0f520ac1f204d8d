"""``mailbot init``, ``mailbot doctor`` and ``mailbot demo``."""

from __future__ import annotations

import argparse
from typing import Any

from mailbot.cli.common import app_of, config_of
from mailbot.config import MaildirInboundConfig, MaildirRouteConfig
from mailbot.transports.maildir import ensure_maildir
from store.db import Database


def register(sub: Any) -> None:
    """Add the administration sub-commands."""
    p = sub.add_parser("init", help="créer (ou mettre à jour) la base et les dossiers")
    p.set_defaults(handler=cmd_init)
    p = sub.add_parser("doctor", help="vérifier la configuration, la base, les boîtes et certificats")
    p.add_argument("--json", action="store_true",
                   help="un objet JSON (vérifications et compteurs de santé) pour la supervision")
    p.set_defaults(handler=cmd_doctor)
    p = sub.add_parser("demo", help="démonstration autonome (Maildir + SQLite)")
    p.add_argument("--dir", default="mailbot-demo", help="dossier de la démonstration (défaut : ./mailbot-demo)")
    p.set_defaults(handler=cmd_demo)


def cmd_init(args: argparse.Namespace) -> int:
    """Create or migrate the database, create the Maildir folders."""
    config = config_of(args)
    db = Database(config.database.url, schema=config.database.schema_)
    try:
        before, after = db.migrate()
    finally:
        db.dispose()
    if isinstance(config.inbound, MaildirInboundConfig):
        ensure_maildir(config.inbound.path)
    for route in [config.outbound.default_route(), *config.outbound.routes]:
        if isinstance(route, MaildirRouteConfig):
            ensure_maildir(route.path)
    if before is None:
        print(f"Base créée (révision {after}).")
    elif before == after:
        print(f"Base déjà à jour (révision {after}).")
    else:
        print(f"Base mise à jour : révision {before} → {after}.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check everything and say how to fix what is wrong."""
    # Imported here: the checks load cryptography and both network transports, which no
    # other command needs (every CLI call would pay for them).
    from mailbot.doctor.run import run_checks

    app = app_of(args, check_schema=False)
    return run_checks(app, as_json=args.json)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the self-contained walk-through."""
    from mailbot.demo import run_demo

    return run_demo(args.dir)
