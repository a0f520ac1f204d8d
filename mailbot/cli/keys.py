"""``mailbot keys import|list|remove``: the correspondents' OpenPGP keys in the bot's keyring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mailbot.cli.common import config_of
from mailbot.errors import GpgError, UsageError
from mailbot.gpg.keyring import Keyring


def register(sub: Any) -> None:
    """Add ``keys`` and its actions."""
    p = sub.add_parser("keys", help="clés OpenPGP des correspondants (chiffrement, signatures)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("import", help="importer une clé publique (fichier .asc, - : entrée)")
    a.add_argument("file", metavar="FICHIER", help="fichier de la clé publique (.asc), - pour l'entrée standard")
    a.set_defaults(handler=cmd_import)
    a = actions.add_parser("list", help="clés du trousseau")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("remove", help="retirer la clé d'une adresse ou d'une empreinte")
    a.add_argument("which", metavar="ADRESSE|EMPREINTE", help="adresse ou empreinte de la clé à retirer")
    a.set_defaults(handler=cmd_remove)


def _keyring(args: argparse.Namespace) -> Keyring:
    config = config_of(args)
    if not config.gpg.enabled:
        raise UsageError("GPG n'est pas configuré : ajoutez une section [gpg] avec home = "
                         "\"dossier du trousseau\" (voir config.example.toml)")
    return Keyring(config.gpg, config.identity.address)


def cmd_import(args: argparse.Namespace) -> int:
    """Import keys from a file."""
    keyring = _keyring(args)
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as error:
            raise UsageError(f"{args.file} illisible ({error.strerror})") from error
    if b"PRIVATE KEY BLOCK" in data:
        raise GpgError("ce fichier contient une clé secrète : n'importez ici que des clés "
                       "publiques de correspondants")
    for fingerprint in keyring.import_keys(data):
        addresses = ", ".join(keyring.addresses_of(fingerprint)) or "sans adresse"
        print(f"Clé importée : {fingerprint} ({addresses})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """List the keyring's keys."""
    keyring = _keyring(args)
    keys = keyring.list_keys()
    for key in keys:
        expiry = f"expire le {key.expires:%d/%m/%Y}" if key.expires else "sans expiration"
        flags = [expiry]
        if key.secret:
            flags.append("clé du robot" if keyring.own_address in key.addresses else "secrète")
        if not key.usable:
            flags.append("INUTILISABLE (expirée ou révoquée)")
        print(f"{key.fingerprint}  {', '.join(key.addresses) or '(sans adresse)'}  "
              f"— {', '.join(flags)}")
    print(f"{len(keys)} clé(s) dans {keyring.home}.")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Remove a correspondent's key."""
    keyring = _keyring(args)
    for fingerprint in keyring.remove(args.which):
        print(f"Clé retirée : {fingerprint}. Les messages vers cette adresse ne seront plus "
              "chiffrés (ou plus envoyés, si sa voie exige le chiffrement).")
    return 0
