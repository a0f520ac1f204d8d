"""``mailbot stats --format text``: the report as tables for a terminal."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from mailbot.stats.tables import report_tables


def render_text(report: dict[str, Any], *, width: int = 100, color: bool = False) -> str:
    """The report as text tables (``color`` adds terminal colours)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color,
                      highlight=False)
    period = report["period"]
    console.print(f"[bold]Statistiques — {report['cpts']}[/bold]")
    console.print(f"Période du {_fr(period['from'])} au {_fr(period['to'])} "
                  f"(heure de {period['timezone']})")
    if report["public"]:
        console.print(f"Version diffusable : effectifs inférieurs à {report['mask_below']} "
                      "masqués (« < 5 »).")
    for section in report_tables(report):
        console.print()
        console.rule(f"[bold]{section.title}[/bold]", align="left")
        for table in section.tables:
            rich = RichTable(title=table.title, title_justify="left", show_edge=False)
            for i, column in enumerate(table.columns):
                rich.add_column(column, justify="left" if i < table.text_columns else "right")
            for row in table.rows:
                rich.add_row(*row)
            console.print(rich)
            if table.note:
                console.print(table.note)
    if report["unavailable"]:
        console.print()
        console.print("Non disponibles dans cette version : " + ", ".join(report["unavailable"]))
    return buffer.getvalue()


def _fr(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"
