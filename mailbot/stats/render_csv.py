"""``mailbot stats --format csv``: every figure as one line ``figure,key,label,value``.

``figure`` is the dotted path of the breakdown in the JSON report
(``requests.by_month``), ``key`` the JSON key inside it (``2024-03``),
``label`` its French wording and ``value`` the number (empty when masked or
unknown). Lists (communes, GPs) use the item's name as ``key``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from mailbot.stats.groups import label
from parsers.cells import neutralise_row

HEADER = ["figure", "key", "label", "value"]
META = ("format", "cpts", "generated_at", "period", "public", "mask_below", "unavailable")


def _rows(prefix: str, node: Any) -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from _rows(f"{prefix}.{key}" if prefix else key, value)
            else:
                yield prefix, str(key), value
    elif isinstance(node, list):
        for item in node:
            name = " ".join(str(item[k]) for k in ("code_postal", "commune", "gp")
                            if item.get(k) is not None) or "?"
            for key, value in item.items():
                if key not in ("code_postal", "commune", "gp"):
                    yield f"{prefix}.{key}", name, value


class _Safe:
    """A csv writer whose cells never run as formulas (:func:`parsers.cells.neutralise`)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def writerow(self, row: list[Any]) -> None:
        self.writer.writerow(neutralise_row(row))


def render_csv(report: dict[str, Any]) -> str:
    """The report as CSV (comma-separated, UTF-8)."""
    buffer = io.StringIO(newline="")
    writer = _Safe(csv.writer(buffer))
    writer.writerow(HEADER)
    period = report["period"]
    writer.writerow(["period", "from", "Début", period["from"]])
    writer.writerow(["period", "to", "Fin", period["to"]])
    writer.writerow(["report", "public", "Version diffusable", "true" if report["public"] else "false"])
    body = {k: v for k, v in report.items() if k not in META}
    for figure, key, value in _rows("", body):
        shown = "" if value is None else value
        writer.writerow([figure, key, label(key) if figure != "requests.by_commune.count" else key,
                         shown])
    return buffer.getvalue()
