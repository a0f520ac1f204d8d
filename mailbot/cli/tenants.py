"""``mailbot tenants list`` and ``mailbot tenants check``: the territories of the tenants folder,
each file validated, none sharing a schema, a SQLite file, a mailbox or an address."""

from __future__ import annotations

import argparse
from typing import Any

from mailbot.config import ImapInboundConfig, MaildirInboundConfig
from mailbot.config.model import Config
from mailbot.config.tenants import load_all, tenants_dir
from mailbot.errors import ConfigError


def register(sub: Any) -> None:
    """Add ``tenants`` and its actions."""
    p = sub.add_parser("tenants", help="territoires (un fichier NOM.toml chacun) : liste, vérification")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("list", help="les territoires du dossier, chaque fichier vérifié")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("check", help="vérifier chaque fichier et qu'aucun territoire n'en partage "
                                         "un autre (schéma, fichier SQLite, boîte, adresse)")
    a.set_defaults(handler=cmd_check)


def _database_text(config: Config) -> str:
    url = config.database.url
    if url.startswith("sqlite"):
        return url
    schema = config.database.schema_ or "public"
    return f"PostgreSQL, schéma {schema}"


def _inbound_text(config: Config) -> str:
    inbound = config.inbound
    if isinstance(inbound, MaildirInboundConfig):
        return f"Maildir {inbound.path}"
    assert isinstance(inbound, ImapInboundConfig)
    return f"IMAP {inbound.user or '?'}@{inbound.host}/{inbound.folder}"


def _load(args: argparse.Namespace) -> dict[str, Config]:
    folder = tenants_dir(args.tenants_dir)
    if not folder.is_dir():
        raise ConfigError("dossier des territoires introuvable", file=str(folder),
                          expected="--tenants-dir DOSSIER ou MAILBOT_TENANTS_DIR, un fichier NOM.toml "
                                   "par territoire")
    return load_all(folder)


def cmd_list(args: argparse.Namespace) -> int:
    """One line per tenant: name, identity address, database, inbound mailbox."""
    tenants = _load(args)
    for name, config in tenants.items():
        print(f"{name} — {config.identity.name} <{config.identity.address}> ; "
              f"{_database_text(config)} ; {_inbound_text(config)}")
    if not tenants:
        print(f"Aucun territoire dans {tenants_dir(args.tenants_dir)}.")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate every tenant file and refuse shared resources."""
    tenants = _load(args)
    print(f"{len(tenants)} territoire(s) vérifié(s) dans {tenants_dir(args.tenants_dir)} : "
          "chaque fichier est valide et aucun ne partage sa base, son schéma, ses boîtes ou son adresse.")
    return 0
