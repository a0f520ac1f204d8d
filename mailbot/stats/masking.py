"""Small-count masking for reports that leave the CPTS (``mailbot stats --public``).

Rules, applied to the report's figures (``docs/stats.md``):

1. every count from 1 to ``below - 1`` becomes ``None`` (shown "< 5"); zero stays;
2. in a dict holding a ``count``, a masked count masks its numeric siblings
   (share, median, p90…), which could reveal it or describe too few people;
3. in a breakdown — a dict of counts, a dict of dicts holding a ``count``, or
   a list of such dicts — when exactly one cell is masked, the smallest other
   non-zero cell is masked too, so the masked one cannot be worked out from
   the total;
4. communes are ranked, so communes under the threshold are first merged into
   one "Autres communes" line (:func:`merge_small_communes`).
"""

from __future__ import annotations

from typing import Any

OTHER_COMMUNES = "Autres communes"


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _small(value: Any, below: int) -> bool:
    return _is_count(value) and 0 < value < below


def merge_small_communes(items: list[dict[str, Any]], below: int) -> list[dict[str, Any]]:
    """Communes with fewer than ``below`` requests merged into one anonymous line."""
    kept = [dict(i) for i in items if not _small(i["count"], below)]
    rest = sum(i["count"] for i in items if _small(i["count"], below))
    if rest:
        kept.append({"code_postal": None, "commune": OTHER_COMMUNES, "count": rest})
    return kept


def mask(node: Any, below: int) -> Any:
    """A masked copy of ``node`` (rules 1–3 of the module docstring)."""
    if isinstance(node, list):
        items = [mask(item, below) for item in node]
        if node and all(isinstance(i, dict) and _is_count(i.get("count")) for i in node):
            _secondary(items, ["count"] * len(items))
        return items
    if not isinstance(node, dict):
        return None if _small(node, below) else node
    out = {key: mask(value, below) for key, value in node.items()}
    if _small(node.get("count"), below):
        _blank(out)
    values = list(node.values())
    if len(values) > 1 and all(_is_count(v) for v in values):
        _secondary([out] * len(out), list(out))
    elif len(values) > 1 and all(isinstance(v, dict) and _is_count(v.get("count")) for v in values):
        _secondary(list(out.values()), ["count"] * len(out))
    return out


def _blank(item: dict[str, Any]) -> None:
    for key, value in item.items():
        if _is_number(value):
            item[key] = None


def _secondary(containers: list[dict[str, Any]], keys: list[str]) -> None:
    """Rule 3 over the cells ``containers[i][keys[i]]`` (``None`` = masked)."""
    cells = list(zip(containers, keys, strict=True))
    if sum(1 for box, key in cells if box[key] is None) != 1:
        return
    visible = [(box, key) for box, key in cells if _is_count(box[key]) and box[key] > 0]
    if not visible:
        return
    box, key = min(visible, key=lambda cell: cell[0][cell[1]])
    if key == "count":
        _blank(box)
    else:
        box[key] = None
