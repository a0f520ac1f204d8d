"""The ``mailbot`` command line (spec/cli-and-config.md is the contract).
May import every package of mailbot; only ``mailbot.__main__`` imports it.

Exit codes: 0 success, 1 operational failure, 2 usage or configuration error.
Errors are one clear message, never a traceback (``MAILBOT_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from mailbot.cli.french import FrenchParser
from mailbot.errors import MailbotError
from store.db import DatabaseError

Handler = Callable[[argparse.Namespace], int]

# Each module has ``register(subparsers)``; a workflow adding commands adds its module here.
SUBCOMMAND_MODULES: list[str] = [
    "mailbot.cli.admin",
    "mailbot.cli.run",
    "mailbot.cli.entries",
    "mailbot.cli.jobs",
    "mailbot.cli.audit",
    "mailbot.cli.calls",
    "mailbot.cli.gps",
    "mailbot.cli.stats",
    "mailbot.cli.importer",
    "mailbot.cli.senders",
    "mailbot.cli.keys",
    "mailbot.cli.privacy",
    "mailbot.cli.form",
    "mailbot.cli.tenants",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = FrenchParser(
        prog="mailbot",
        description="Liste d'attente des patients sans médecin traitant, par messagerie sécurisée.",
    )
    parser.add_argument("--config", metavar="FICHIER",
                        help="fichier de configuration (défaut : $MAILBOT_CONFIG, puis ./mailbot.toml)")
    parser.add_argument("--tenant", metavar="NOM",
                        help="territoire : lit NOM.toml dans le dossier des territoires (au lieu de --config)")
    parser.add_argument("--tenants-dir", metavar="DOSSIER",
                        help="dossier des territoires (défaut : $MAILBOT_TENANTS_DIR, puis tenants/ à côté "
                             "du fichier de configuration par défaut)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="afficher aussi le journal détaillé du robot sur la sortie d'erreur")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except MailbotError as error:
        print(f"mailbot: {error}", file=sys.stderr)
        return error.exit_code
    except DatabaseError as error:
        print(f"mailbot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mailbot: interrompu", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("MAILBOT_DEBUG"):
            raise
        print(f"mailbot: erreur interne ({type(error).__name__}) ; relancez avec MAILBOT_DEBUG=1 "
              "pour le détail technique", file=sys.stderr)
        return 1


def entry_point() -> None:
    """Console script entry point."""
    sys.exit(main())
