"""Charts of the HTML report, drawn with matplotlib as SVG (vector: sharp on screen and paper).

Each chart function takes the JSON-ready report and answers an SVG document
(``str``); with nothing to draw, a chart without axes saying « aucune donnée ».
Counts have whole-number ticks, decimals a French comma (``2,5``). Masked
values of a public report are drawn as zero and said so in the caption.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from mailbot.stats.groups import PRIORITY_GROUPS, WAYS, label
from mailbot.stats.tables import month_label

COLORS = ("#1f5f8b", "#e07b39", "#5a9e6f", "#b0b0b0", "#8e6bb0", "#c9514f")
WAY_COLORS = {"matched_by_gp": "#1f5f8b", "found_alone": "#5a9e6f", "other_resolved": "#b0b0b0",
              "closed": "#c9514f"}


def _num(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _figure(height: float = 3.0) -> Any:
    from matplotlib.figure import Figure  # slow import: only when a chart is drawn

    fig = Figure(figsize=(8.0, height), dpi=96)
    fig.set_layout_engine("constrained")
    return fig


def _svg(fig: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mailbot-stats"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "mailbot stats"})
    return buffer.getvalue()


def _style(ax: Any, *, counts: str = "y") -> None:
    """Light frame; the value axis ticks whole numbers (counts) or any number (``counts=""``),
    both written the French way."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for name in ("x", "y"):
        axis = ax.xaxis if name == "x" else ax.yaxis
        if name == counts:
            axis.set_major_locator(MaxNLocator(integer=True))
        if name == counts or (name == "y" and not counts):
            axis.set_major_formatter(FuncFormatter(lambda value, _pos: french_number(value)))


def french_number(value: float) -> str:
    """``2.5`` → ``2,5``, ``3.0`` → ``3``, ``12000`` → ``12 000``."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")


def no_data(message: str = "aucune donnée") -> str:
    """A chart with nothing to show: no axis, just the words."""
    fig = _figure(1.2)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#666666",
            transform=ax.transAxes)
    return _svg(fig)


def _empty(values: Any) -> bool:
    return not any(_num(v) for v in values)


def _month_ticks(ax: Any, months: list[str]) -> None:
    step = max(1, len(months) // 12)
    positions = list(range(0, len(months), step))
    ax.set_xticks(positions, [month_label(months[i]) for i in positions], rotation=45,
                  ha="right", fontsize=8)


def requests_by_month(report: dict[str, Any]) -> str | None:
    """Bars: registrations per month."""
    data = report["requests"]["by_month"]
    if _empty(data.values()):
        return no_data()
    fig = _figure()
    ax = fig.add_subplot()
    months = list(data)
    ax.bar(range(len(months)), [_num(v) for v in data.values()], color=COLORS[0])
    _month_ticks(ax, months)
    ax.set_ylabel("Demandes")
    _style(ax)
    return _svg(fig)


def requests_by_referrer_type(report: dict[str, Any]) -> str | None:
    """Horizontal bars: registrations per kind of referrer."""
    data = report["requests"]["by_referrer_type"]
    if _empty(data.values()):
        return no_data()
    fig = _figure(2.6)
    ax = fig.add_subplot()
    names = [label(k) for k in data][::-1]
    ax.barh(names, [_num(v) for v in data.values()][::-1], color=COLORS[1])
    ax.set_xlabel("Demandes")
    _style(ax, counts="x")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    return _svg(fig)


def resolutions_by_month(report: dict[str, Any]) -> str | None:
    """Stacked bars: entries leaving the list per month, by way."""
    data = report["resolutions"]["by_month"]
    if _empty(_num(data[m][way]) for m in data for way in WAYS):
        return no_data()
    fig = _figure()
    ax = fig.add_subplot()
    months = list(data)
    bottom = [0.0] * len(months)
    for way in WAYS:
        values = [_num(data[m][way]) for m in months]
        ax.bar(range(len(months)), values, bottom=bottom, color=WAY_COLORS[way], label=label(way))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _month_ticks(ax, months)
    ax.set_ylabel("Patients")
    ax.legend(fontsize=8, frameon=False, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0))
    _style(ax)
    return _svg(fig)


def waiting_by_group(report: dict[str, Any]) -> str | None:
    """Grouped bars: median wait of those still waiting and median time to a doctor, per group."""
    waiting = report["snapshot"]["still_waiting"]["by_priority_group"]
    resolved = report["time_to_resolution"]["by_priority_group"]
    if _empty([*(waiting[g]["median_days"] for g in PRIORITY_GROUPS),
               *(resolved[g]["median_days"] for g in PRIORITY_GROUPS)]):
        return no_data()
    fig = _figure(2.8)
    ax = fig.add_subplot()
    xs = range(len(PRIORITY_GROUPS))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], [_num(waiting[g]["median_days"]) for g in PRIORITY_GROUPS],
           width, color=COLORS[0], label="Attente en cours (médiane)")
    ax.bar([x + width / 2 for x in xs], [_num(resolved[g]["median_days"]) for g in PRIORITY_GROUPS],
           width, color=COLORS[2], label="Délai jusqu'au médecin (médiane)")
    ax.set_xticks(list(xs), [label(g) for g in PRIORITY_GROUPS], fontsize=8)
    ax.set_ylabel("Jours")
    ax.legend(fontsize=8, frameon=False)
    _style(ax, counts="")
    return _svg(fig)


def entries_by_status(report: dict[str, Any]) -> str | None:
    """Horizontal bars: every entry by current status."""
    data = report["snapshot"]["entries_by_status"]
    if _empty(data.values()):
        return no_data()
    fig = _figure(2.6)
    ax = fig.add_subplot()
    ax.barh([label(k) for k in data][::-1], [_num(v) for v in data.values()][::-1],
            color=COLORS[4])
    ax.set_xlabel("Inscriptions")
    _style(ax, counts="x")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    return _svg(fig)


CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], str | None]]] = {
    "requests_by_month": ("Demandes reçues par mois", requests_by_month),
    "requests_by_referrer_type": ("Demandes par type d'adresseur", requests_by_referrer_type),
    "resolutions_by_month": ("Sorties de la liste par mois et par issue", resolutions_by_month),
    "waiting_by_group": ("Délais médians par groupe de priorité (jours)", waiting_by_group),
    "entries_by_status": ("Inscriptions par état aujourd'hui", entries_by_status),
}
