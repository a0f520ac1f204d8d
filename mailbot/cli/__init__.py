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


# The module of each command: a command line naming one imports that module only (the
# others are long to import; ``tests/test_cli.py`` checks this table against the modules).
COMMAND_MODULES: dict[str, str] = {
    "init": "mailbot.cli.admin", "doctor": "mailbot.cli.admin", "demo": "mailbot.cli.admin",
    "run": "mailbot.cli.run", "entries": "mailbot.cli.entries", "jobs": "mailbot.cli.jobs",
    "audit": "mailbot.cli.audit", "calls": "mailbot.cli.calls", "gps": "mailbot.cli.gps",
    "stats": "mailbot.cli.stats", "import": "mailbot.cli.importer",
    "senders": "mailbot.cli.senders", "keys": "mailbot.cli.keys",
    "retention": "mailbot.cli.privacy", "patient": "mailbot.cli.privacy", "form": "mailbot.cli.form",
    "tenants": "mailbot.cli.tenants",
}
_VALUED_OPTIONS = ("--config", "--tenant", "--tenants-dir")  # global options taking a value


def command_of(argv: Sequence[str]) -> str | None:
    """The command named by ``argv`` after the global options, if plainly written."""
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in _VALUED_OPTIONS:
            index += 2
        elif word.startswith(tuple(f"{option}=" for option in _VALUED_OPTIONS)) or word in (
                "-v", "--verbose"):
            index += 1
        else:
            return None if word.startswith("-") else word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command, or only the one ``argv`` names."""
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
    command = command_of(argv) if argv is not None else None
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else SUBCOMMAND_MODULES
    for module in modules:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
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
