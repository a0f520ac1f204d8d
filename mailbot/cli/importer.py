"""``mailbot import FILE.xlsx|FILE.csv``: the waitlist a CPTS keeps today, into the bot."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mailbot.cli.common import app_of
from mailbot.cli.jobs import parse_at
from mailbot.errors import UsageError
from mailbot.importer.columns import parse_overrides
from mailbot.importer.run import ImportOptions, ImportReport, RowResult, run_import
from mailbot.importer.statuses import Status
from mailbot.operations.labels import status_from_text
from mailbot.stats.groups import label
from parsers.referral.labels import normalise
from parsers.referral.types import FRENCH_LABELS
from store.models import EntryStatus

OUTCOME_WORDS = {
    "created": ("à créer", "créée"), "incomplete": ("à créer", "créée"),
    "duplicate": ("doublon", "doublon"), "already": ("déjà importée", "déjà importée"),
    "rejected": ("rejetée", "rejetée"), "skipped": ("ignorée", "ignorée"),
}


def register(sub: Any) -> None:
    """Add ``import``."""
    p = sub.add_parser(
        "import", help="importer la liste d'attente tenue jusqu'ici (tableur .xlsx ou .csv)",
        description="Importe la liste d'attente existante. Les en-têtes de colonnes sont lus "
                    "comme les libellés de la fiche de saisine ; la date d'inscription "
                    "d'origine est conservée (elle donne le rang). Relancer le même import ne "
                    "crée rien de plus.")
    p.add_argument("file", metavar="FICHIER", help="fichier .xlsx ou .csv (séparateur et "
                                                  "encodage détectés)")
    p.add_argument("--dry-run", action="store_true",
                   help="dire, ligne par ligne, ce qui serait créé, fusionné ou rejeté, sans rien "
                        "enregistrer")
    p.add_argument("--sheet", action="append", metavar="FEUILLE",
                   help="n'importer que cette feuille (répétable ; défaut : toutes celles dont "
                        "l'en-tête est reconnu)")
    p.add_argument("--map", action="append", default=[], metavar="\"COLONNE=CLÉ\"",
                   help="sens d'une colonne : clé de la fiche (nom, prenom, date_naissance, "
                        "telephone…), nom_prenom, cp_commune, contact, statut, date_inscription, "
                        "date_sortie, motif_sortie, mail_referent, medecin_attribue, ou ignorer")
    p.add_argument("--status", action="append", default=[], metavar="\"TEXTE=ÉTAT[:MOTIF]\"",
                   help="sens d'un statut écrit dans la feuille : en attente, incomplète, "
                        "résolue ou clôturée, avec un motif si besoin "
                        "(ex. \"Parti=clôturée:déménagé\")")
    p.add_argument("--assume-consent", action="store_true",
                   help="tous les patients de la liste ont donné leur accord (case absente ou "
                        "vide = oui)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="compte rendu en texte (défaut) ou en JSON")
    p.add_argument("--at", metavar="DATETIME", help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_import)


def parse_statuses(pairs: list[str]) -> dict[str, Status]:
    """``--status "Texte=closed:motif"`` options → ``{normalised text: Status}``."""
    out: dict[str, Status] = {}
    for pair in pairs:
        text, sep, meaning = pair.rpartition("=")
        state, _, reason = meaning.partition(":")
        status = status_from_text(state)
        if not sep or not text.strip() or status not in (
                EntryStatus.WAITING, EntryStatus.INCOMPLETE, EntryStatus.RESOLVED,
                EntryStatus.CLOSED):
            raise UsageError(f"--status « {pair} » : attendu « Texte=état[:motif] », l'état étant "
                             "en attente, incomplète, résolue ou clôturée")
        assert status is not None
        out[normalise(text)] = Status(status, reason.strip() or None)
    return out


def cmd_import(args: argparse.Namespace) -> int:
    """Import (or try) the file and report row by row."""
    app = app_of(args)
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path} : fichier introuvable")
    options = ImportOptions(
        sheets=args.sheet, overrides=parse_overrides(args.map),
        statuses=parse_statuses(args.status), assume_consent=args.assume_consent,
        dry_run=args.dry_run, batch_rows=app.config.coordination.import_batch_rows,
        territory=(*app.config.intake.postal_codes, *app.config.intake.postal_code_prefixes))
    now = parse_at(args.at) if args.at else app.clock.now()
    tz = ZoneInfo(app.config.jobs.timezone)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=args.dry_run) as progress:
        task = progress.add_task("Essai" if args.dry_run else "Import", total=None)

        def advance(done: int, total: int) -> None:
            if done == 1 or done == total or done % 200 == 0:
                progress.update(task, completed=done, total=total)

        report = run_import(app.db, path, options, now=now, tz=tz, progress=advance)
    if args.format == "json":
        payload = dataclasses.asdict(report)
        payload["counts"] = report.counts()
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_report(report))
    return 0


def _row_line(row: RowResult, dry_run: bool) -> str:
    word = OUTCOME_WORDS[row.outcome][0 if dry_run else 1]
    parts = [f"  {row.sheet} ligne {row.row:>5}  {word:<14}"]
    if row.status:
        parts.append(label(row.status).lower())
    if row.ref and not (dry_run and row.outcome in ("created", "incomplete")):
        parts.append(row.ref)
    if row.detail:
        parts.append(f"— {row.detail}")
    line = "  ".join(parts)
    return line + "".join(f"\n{' ' * 8}· {note}" for note in row.notes)


COLUMN_LABELS = {
    "statut": "Statut", "date_inscription": "Date d'inscription", "date_sortie": "Date de sortie",
    "motif_sortie": "Motif de sortie", "mail_referent": "E-mail du référent",
    "medecin_attribue": "Médecin attribué", "nom_prenom": "Nom et prénom",
    "prenom_nom": "Prénom et nom", "cp_commune": "Code postal et commune", "contact": "Contact",
}


def column_label(key: str) -> str:
    """What a column was understood as, in French (``date_naissance`` → « Date de naissance »)."""
    return FRENCH_LABELS.get(key) or COLUMN_LABELS.get(key, key)


def plural(count: int, word: str, many: str | None = None, *, bare: bool = False) -> str:
    """``1 doublon``, ``2 doublons``, ``0 doublon`` (French: 0 and 1 take the singular)."""
    form = word if count <= 1 else (many or word + "s")
    return form if bare else f"{count} {form}"


def render_report(report: ImportReport) -> str:
    """The import as a coordinator reads it: sheets understood, rows, summary."""
    lines = [f"Fichier {report.file} (empreinte {report.sha256[:12]})"
             + (" — essai à blanc : rien n'a été enregistré." if report.dry_run else "")]
    for sheet in report.sheets:
        if sheet.header_row is None:
            lines.append(f"Feuille « {sheet.name} » : pas d'en-tête reconnu, ignorée.")
            continue
        lines.append(f"Feuille « {sheet.name} » : en-tête ligne {sheet.header_row} ; colonnes "
                     f"lues : {', '.join(column_label(c) for c in sheet.columns)}"
                     + (f" ; non comprises : {', '.join(sheet.unknown)}" if sheet.unknown else "")
                     + (f" ; sans statut écrit, les lignes sont « {label(sheet.status).lower()} »"
                        " d'après le nom de la feuille" if sheet.status else ""))
    # The real run lists every row as the trial does (blank rows left out).
    shown = [r for r in report.rows if not (r.outcome == "skipped" and r.detail == "ligne vide")]
    lines += [_row_line(row, report.dry_run) for row in shown]
    undated = sum(1 for r in report.rows
                  if r.no_received_date and r.outcome in ("created", "incomplete"))
    if undated:
        lines.append(f"{plural(undated, 'ligne')} sans date d'inscription : "
                     + ("leur" if undated > 1 else "son") + " rang est la date de l'import.")
    counts = report.counts()
    created = counts["created"] + counts["incomplete"]
    verb = "à créer" if report.dry_run else plural(created, "créée", bare=True)
    lines.append(
        f"Résumé : {created} {verb} (dont {plural(counts['incomplete'], 'incomplète')}), "
        f"{plural(counts['duplicate'], 'doublon')}, "
        f"{plural(counts['already'], 'déjà importée', 'déjà importées')}, "
        f"{plural(counts['rejected'], 'rejetée')}, "
        f"{plural(counts['skipped'], 'ignorée')} (vides ou totaux).")
    if not report.dry_run and report.batch_id is not None:
        lines.append(f"Import n° {report.batch_id} enregistré dans le journal d'audit.")
    return "\n".join(lines) + "\n"

