"""Decision metrics of the reply classifiers over a labelled JSONL corpus.

Each line is ``{"text": ..., "expected": ..., "note": ...}``; GP lines also
carry ``"context"`` and, where relevant, ``"number"``, ``"reason"``, and for
follow-ups ``"received"`` (ISO day of the answer) and ``"date"`` (the day a
*pending* answer names). ``decided_share`` is the share of items the
classifier decided (anything but ``unclear``); ``decided_precision`` the share
of those decisions that are correct — a decision on an item labelled
``unclear`` counts as wrong. ``decidable_share`` is the share of the items
whose label is not ``unclear`` that were decided right. ``pending`` (follow-up)
and ``stop`` (recontact) are decisions: an automatic action follows them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from parsers.replies import classify_gp_reply, classify_patient_reply

__all__ = ["class_table", "corpus_metrics", "evaluate_item"]


def _norm_reason(value: object) -> str | None:
    return " ".join(str(value).split()).casefold() if value is not None else None


def evaluate_item(row: dict[str, Any]) -> tuple[str, bool]:
    """Classify one corpus row; return (decision, correct).

    For GP rows, a decision is correct when the intent matches and, when the
    row states them, ``number``, ``reason`` (case- and space-insensitive) and
    the ``date`` of a pending answer too.
    """
    text = row.get("text", "")
    if "context" in row:
        today = dt.date.fromisoformat(row["received"]) if "received" in row else None
        reply = classify_gp_reply(text, context=row["context"], today=today)
        ok = reply.intent == row["expected"]
        if ok and "number" in row:
            ok = reply.number == row["number"]
        if ok and "reason" in row:
            ok = _norm_reason(reply.reason) == _norm_reason(row["reason"])
        if ok and "date" in row:
            ok = reply.date is not None and reply.date.isoformat() == row["date"]
        return reply.intent, ok
    answer = classify_patient_reply(text).answer
    return answer, answer == row["expected"]


def _rows(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def corpus_metrics(path: str | Path) -> dict[str, Any]:
    """Read a JSONL corpus at ``path`` and return its decision metrics.

    Keys: ``items``, ``decided``, ``correct_decisions``, ``decided_share``,
    ``decided_precision`` (1.0 when nothing was decided), ``decidable`` (items
    not labelled unclear), ``decidable_share``, ``accuracy`` (unclear answers on
    unclear items count as correct), ``by_class`` (see :func:`class_table`),
    ``wrong`` (line number, expected, got, note of wrong decisions) and
    ``undecided`` (same, for decidable items left unclear).
    """
    rows = _rows(path)
    decided = correct_decisions = correct = decidable = decidable_right = 0
    wrong: list[tuple[int, str, str, str]] = []
    undecided: list[tuple[int, str, str, str]] = []
    classes: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for lineno, row in enumerate(rows, start=1):
        got, ok = evaluate_item(row)
        correct += ok
        entry = (lineno, str(row.get("expected")), got, str(row.get("note", "")))
        stats = classes[str(row.get("class", row.get("expected")))]
        stats[0] += 1
        if row.get("expected") != "unclear":
            decidable += 1
            decidable_right += got != "unclear" and ok
            stats[3] += 1
            stats[4] += got != "unclear" and ok
        if got != "unclear":
            decided += 1
            correct_decisions += ok
            stats[1] += 1
            stats[2] += ok
            if not ok:
                wrong.append(entry)
        elif row.get("expected") != "unclear":
            undecided.append(entry)
    n = len(rows)
    return {
        "items": n,
        "decided": decided,
        "correct_decisions": correct_decisions,
        "decided_share": decided / n if n else 0.0,
        "decided_precision": correct_decisions / decided if decided else 1.0,
        "decidable": decidable,
        "decidable_share": decidable_right / decidable if decidable else 1.0,
        "accuracy": correct / n if n else 0.0,
        "by_class": {k: tuple(v) for k, v in sorted(classes.items())},
        "wrong": wrong,
        "undecided": undecided,
    }


def class_table(title: str, metrics: dict[str, Any]) -> str:
    """A plain-text table of precision and decided share per class of ``metrics``.

    Columns: items, decided, precision of the decisions, decidable items and the
    share of them decided right ("-" where there is nothing to divide).
    """
    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "  -  "

    lines = [title, f"  {'class':<14}{'items':>6}{'decided':>8}{'precision':>10}"
                    f"{'decidable':>10}{'share':>7}"]
    rows = [*metrics["by_class"].items(),
            ("ALL", (metrics["items"], metrics["decided"], metrics["correct_decisions"],
                     metrics["decidable"], round(metrics["decidable_share"] * metrics["decidable"])))]
    for name, (items, dec, right, able, able_right) in rows:
        lines.append(f"  {name:<14}{items:>6}{dec:>8}{ratio(right, dec):>10}{able:>10}"
                     f"{ratio(able_right, able):>7}")
    return "\n".join(lines)
