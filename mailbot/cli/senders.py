"""``mailbot senders blocked`` and ``mailbot senders unblock ADRESSE``: addresses quarantined
after forged tokens, and lifting that quarantine (audited)."""

from __future__ import annotations

import argparse
from typing import Any

from mailbot.cli.common import app_of
from mailbot.clock import fr_date
from mailbot.errors import NotFoundError
from store import blocked


def register(sub: Any) -> None:
    """Add ``senders`` and its actions."""
    p = sub.add_parser("senders", help="adresses mises en quarantaine (jetons falsifiés)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("blocked", help="adresses dont les messages sont mis en quarantaine")
    a.set_defaults(handler=cmd_blocked)
    a = actions.add_parser("unblock", help="lever la quarantaine d'une adresse")
    a.add_argument("address", metavar="ADRESSE", help="adresse à libérer, ex. x@exemple.fr")
    a.add_argument("--by", default="coordinateur", help="qui lève la quarantaine (trace d'audit)")
    a.set_defaults(handler=cmd_unblock)


def cmd_blocked(args: argparse.Namespace) -> int:
    """List the blocked addresses."""
    app = app_of(args)
    with app.db.sessions() as session:
        rows = blocked.blocked(session)
        for row in rows:
            print(f"{row.address} — depuis le {fr_date(row.blocked_at)} : {row.reason}")
    if not rows:
        print("Aucune adresse en quarantaine.")
    else:
        print(f"{len(rows)} adresse(s) en quarantaine ; pour en lever une : "
              "mailbot senders unblock ADRESSE")
    return 0


def cmd_unblock(args: argparse.Namespace) -> int:
    """Lift the quarantine of one address."""
    app = app_of(args)
    with app.db.transaction() as session:
        if not blocked.lift(session, args.address, actor=f"cli:{args.by}", now=app.clock.now()):
            raise NotFoundError(f"l'adresse {args.address} n'est pas en quarantaine "
                                "(mailbot senders blocked pour la liste)")
    print(f"Quarantaine levée pour {args.address.strip().lower()} : ses prochains messages "
          "seront lus normalement.")
    return 0
