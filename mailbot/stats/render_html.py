"""``mailbot stats --format html``: one self-contained page with tables and charts.

Everything is inside the file (styles, charts as embedded SVG images); a
Content-Security-Policy forbids any network access, so the page can be
opened, mailed or printed anywhere and never leaks who reads it.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from mailbot.clock import PARIS
from mailbot.stats.charts import CHARTS
from mailbot.stats.tables import report_tables

TEMPLATE = Path(__file__).with_name("report.html.j2")


def _fr_day(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def render_html(report: dict[str, Any]) -> str:
    """The report as a self-contained HTML page."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    charts = {}
    for name, (title, draw) in CHARTS.items():
        svg = draw(report)
        charts[name] = None if svg is None else {
            "title": title, "data": base64.b64encode(svg.encode("utf-8")).decode("ascii")}
    generated = dt.datetime.fromisoformat(report["generated_at"]).astimezone(PARIS)
    period = report["period"]
    return template.render(
        report=report, sections=report_tables(report), charts=charts,
        period_text=f"{_fr_day(period['from'])} au {_fr_day(period['to'])}",
        generated_text=generated.strftime("%d/%m/%Y à %H:%M"),
    )
