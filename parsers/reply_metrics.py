"""Decision metrics of the reply classifiers over a labelled JSONL corpus.

Each line is ``{"text": ..., "expected": ..., "note": ...}``; GP lines also
carry ``"context"`` and, where relevant, ``"number"`` and ``"reason"``.
``decided_share`` is the share of items the classifier decided (anything but
``unclear``); ``decided_precision`` the share of those decisions that are
correct — a decision on an item labelled ``unclear`` counts as wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parsers.replies import classify_gp_reply, classify_patient_reply

__all__ = ["corpus_metrics", "evaluate_item"]


def _norm_reason(value: object) -> str | None:
    return " ".join(str(value).split()).casefold() if value is not None else None


def evaluate_item(row: dict[str, Any]) -> tuple[str, bool]:
    """Classify one corpus row; return (decision, correct).

    For GP rows, a decision is correct when the intent matches and, when the
    row states them, ``number`` and ``reason`` (case- and space-insensitive) too.
    """
    text = row.get("text", "")
    if "context" in row:
        reply = classify_gp_reply(text, context=row["context"])
        ok = reply.intent == row["expected"]
        if ok and "number" in row:
            ok = reply.number == row["number"]
        if ok and "reason" in row:
            ok = _norm_reason(reply.reason) == _norm_reason(row["reason"])
        return reply.intent, ok
    answer = classify_patient_reply(text).answer
    return answer, answer == row["expected"]


def corpus_metrics(path: str | Path) -> dict[str, Any]:
    """Read a JSONL corpus at ``path`` and return its decision metrics.

    Keys: ``items``, ``decided``, ``correct_decisions``, ``decided_share``,
    ``decided_precision`` (1.0 when nothing was decided), ``accuracy`` (unclear
    answers on unclear items count as correct), ``wrong`` (line number,
    expected, got, note of wrong decisions) and ``undecided`` (same, for
    decidable items left unclear).
    """
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    decided = correct_decisions = correct = 0
    wrong: list[tuple[int, str, str, str]] = []
    undecided: list[tuple[int, str, str, str]] = []
    for lineno, row in enumerate(rows, start=1):
        got, ok = evaluate_item(row)
        correct += ok
        entry = (lineno, str(row.get("expected")), got, str(row.get("note", "")))
        if got != "unclear":
            decided += 1
            correct_decisions += ok
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
        "accuracy": correct / n if n else 0.0,
        "wrong": wrong,
        "undecided": undecided,
    }
