"""``mailbot stats``: the waitlist's figures, for coordinators or (``--public``) for outside."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.cli.common import app_of
from mailbot.cli.jobs import parse_at
from mailbot.errors import UsageError
from mailbot.stats.report import build_report, period_for

FORMATS = ("text", "json", "csv", "html")


def register(sub: Any) -> None:
    """Add ``stats``."""
    p = sub.add_parser(
        "stats", help="statistiques de la liste (texte, JSON, CSV ou page HTML avec graphiques)",
        description="Statistiques de la liste d'attente. Sans --from, la période commence à la "
                    "première inscription ; sans --to, elle finit aujourd'hui.")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (tableau, défaut), json (clés stables, voir docs/stats.md), csv, "
                        "html (page autonome avec graphiques, à ouvrir ou imprimer)")
    p.add_argument("--output", metavar="FILE", help="fichier de sortie (défaut : sortie standard)")
    p.add_argument("--from", dest="start", metavar="DATE",
                   help="début de la période : 2024-01-15, 15/01/2024, 2024-01 ou 2024")
    p.add_argument("--to", dest="end", metavar="DATE",
                   help="fin de la période (incluse), mêmes formes ; 2024-06 = jusqu'au 30 juin")
    p.add_argument("--public", action="store_true",
                   help="version diffusable hors de la CPTS (conseil d'administration, CPAM) : "
                        "petits effectifs masqués, rien de réservé aux coordinateurs")
    p.add_argument("--at", metavar="DATETIME",
                   help="calculer comme si l'horloge indiquait cette date (ISO, heure de Paris)")
    p.set_defaults(handler=cmd_stats)


def render(report: dict[str, Any], fmt: str, *, color: bool = False) -> str:
    """The report in one of :data:`FORMATS`."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        from mailbot.stats.render_csv import render_csv

        return render_csv(report)
    if fmt == "html":
        from mailbot.stats.render_html import render_html

        return render_html(report)
    from mailbot.stats.render_text import render_text

    return render_text(report, color=color)


def cmd_stats(args: argparse.Namespace) -> int:
    """Compute the report and write it."""
    app = app_of(args)
    now = parse_at(args.at) if args.at else app.clock.now()
    try:
        tz = ZoneInfo(app.config.jobs.timezone)
    except (KeyError, ValueError):
        raise UsageError(f"fuseau horaire inconnu : {app.config.jobs.timezone}") from None
    with app.db.sessions() as session:
        period = period_for(session, args.start, args.end, now=now, tz=tz)
        report = build_report(session, period, now=now, public=args.public,
                              mask_below=app.config.coordination.stats_mask_below,
                              cpts=app.config.identity.name)
    text = render(report, args.format, color=args.output is None and sys.stdout.isatty())
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
    except OSError as error:
        raise UsageError(f"écriture impossible dans {args.output} : {error.strerror}") from None
    print(f"Statistiques écrites dans {args.output}.", file=sys.stderr)
    return 0
