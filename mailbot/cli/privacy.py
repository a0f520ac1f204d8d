"""``mailbot retention --dry-run`` and ``mailbot patient export|erase`` (RGPD, docs/rgpd.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mailbot.cli.common import app_of
from mailbot.cli.entries import cli_actor
from mailbot.errors import UsageError
from mailbot.jobs.retention import dry_run
from mailbot.jobs.schedule import run_job
from mailbot.operations.context import parse_ref
from mailbot.privacy import erase, export


def register(sub: Any) -> None:
    """Add ``retention`` and ``patient``."""
    p = sub.add_parser("retention", help="durées de conservation : messages bruts, anonymisation")
    p.add_argument("--dry-run", action="store_true",
                   help="dire ce qui serait détruit ou anonymisé, sans rien changer")
    p.set_defaults(handler=cmd_retention)
    p = sub.add_parser("patient", help="droits de la personne : export de ses données, effacement")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("export", help="tout ce qui est conservé sur une personne, en JSON")
    a.add_argument("ref", nargs="?", help="référence de l'inscription, ex. E-7QK2M9")
    a.add_argument("--ins", metavar="NIR", help="ou le NIR (INS) de la personne")
    a.add_argument("--output", metavar="FICHIER", help="fichier à écrire (défaut : sortie standard)")
    a.set_defaults(handler=cmd_export)
    a = actions.add_parser("erase", help="effacer une personne (irréversible)")
    a.add_argument("ref", help="référence de l'inscription, ex. E-7QK2M9")
    a.add_argument("--yes", action="store_true", help="ne pas demander de confirmation (scripts)")
    a.set_defaults(handler=cmd_erase)


def cmd_retention(args: argparse.Namespace) -> int:
    """List what the retention job would do (``--dry-run``), or run it now."""
    app = app_of(args)
    if args.dry_run:
        print("Simulation : rien n'est modifié.")
        for line in dry_run(app, app.clock.now()):
            print(line)
        return 0
    print(f"retention : {run_job(app, 'retention')}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the person's data as JSON."""
    if (args.ref is None) == (args.ins is None):
        raise UsageError("donnez une référence (ex. E-7QK2M9) ou --ins NIR, l'un ou l'autre")
    app = app_of(args)
    with app.db.sessions() as session:
        found = export.find(session, ref=parse_ref(args.ref) if args.ref else None, ins=args.ins)
        document = export.export(session, found, now=app.clock.now())
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"{len(found)} inscription(s) exportée(s) dans {args.output} : ce fichier contient "
              "des données de santé, transmettez-le par messagerie sécurisée.", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase after confirmation (``--yes`` skips it)."""
    ref = parse_ref(args.ref)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("effacement non confirmé : relancez avec --yes pour confirmer sans question")
        answer = input(f"Effacer définitivement l'identité, les coordonnées et les messages de {ref} ? "
                       "C'est irréversible. Tapez la référence pour confirmer : ")
        if answer.strip().upper() != ref:
            print("Effacement annulé : rien n'a été modifié.")
            return 1
    app = app_of(args)
    counts = erase.erase(app, ref, actor=cli_actor(), now=app.clock.now())
    print(f"{ref} effacée : {counts.get('inbound', 0)} message(s) reçu(s), "
          f"{counts.get('outbox', 0)} message(s) envoyé(s), {counts.get('history', 0)} événement(s) "
          "d'historique nettoyés. Restent, anonymes, la tranche d'âge, la commune, les critères "
          "et les dates pour les statistiques.")
    return 0

