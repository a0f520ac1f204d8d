"""``mailbot audit verify``: check the hash chain; ``mailbot audit show REF``: an entry's story."""

from __future__ import annotations

import argparse
from typing import Any

from mailbot.cli.common import app_of
from mailbot.operations.context import parse_ref
from mailbot.privacy import export
from mailbot.privacy.story import story
from store.audit import verify_chain


def register(sub: Any) -> None:
    """Add ``audit``."""
    p = sub.add_parser("audit", help="piste d'audit")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("verify", help="vérifier que la piste d'audit n'a pas été modifiée")
    a.set_defaults(handler=cmd_verify)
    a = actions.add_parser("show", help="l'histoire d'une inscription : qui, quand, depuis quel message")
    a.add_argument("ref", help="référence de l'inscription, ex. E-7QK2M9")
    a.set_defaults(handler=cmd_show)


def cmd_show(args: argparse.Namespace) -> int:
    """Print every audit row about the entry, oldest first."""
    app = app_of(args)
    with app.db.sessions() as session:
        [entry] = export.find(session, ref=parse_ref(args.ref))
        lines = story(session, entry)
    print(f"{entry.ref} : {len(lines)} opération(s) dans la piste d'audit (heure de Paris)")
    for line in lines:
        print(line)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the chain is intact, 1 with the broken rows otherwise."""
    app = app_of(args)
    with app.db.sessions() as session:
        breaks = verify_chain(session)
    if not breaks:
        print("Piste d'audit intacte.")
        return 0
    for item in breaks[:50]:
        print(f"ligne {item.audit_id} : {item.problem}")
    print(f"{len(breaks)} anomalie(s) : la piste d'audit a été modifiée ou tronquée.")
    return 1
