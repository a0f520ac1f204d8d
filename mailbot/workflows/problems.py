"""Keeping an entry's list of problems up to date as information arrives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from parsers.referral.required import missing_problems
from parsers.referral.types import CANONICAL_KEYS, FRENCH_LABELS, FieldProblem


def problem_dict(problem: FieldProblem) -> dict[str, str]:
    """A problem as stored on the entry."""
    return {"key": problem.key, "code": problem.code, "message": problem.message,
            "example": problem.example}


def for_template(problems: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Stored problems with their French label, for the acknowledgement."""
    return [{**p, "label": FRENCH_LABELS.get(p["key"], p["key"])} for p in problems]


def recompute(fields: Mapping[str, Any], previous: Iterable[Mapping[str, Any]],
              new_problems: Iterable[FieldProblem]) -> list[dict[str, str]]:
    """Problems left after merging new information into ``fields``.

    A problem reported by the newest message wins; an earlier problem stays
    while its field is still empty (so "31/02 n'existe pas" is not reworded);
    a required field still empty is missing.
    """
    result: dict[str, dict[str, str]] = {}
    for old in previous:
        if fields.get(old["key"]) in (None, ""):
            result.setdefault(old["key"], dict(old))
    for missing in missing_problems(fields):
        result.setdefault(missing.key, problem_dict(missing))
    if fields.get("consentement") is True:
        result.pop("consentement", None)
    has_contact = bool(fields.get("telephone") or fields.get("email"))
    if has_contact and result.get("telephone", {}).get("code") == "missing":
        result.pop("telephone")
    for new in new_problems:
        if new.code != "missing":
            result[new.key] = problem_dict(new)
    order = {key: i for i, key in enumerate(CANONICAL_KEYS)}
    return sorted(result.values(), key=lambda p: order.get(p["key"], len(order)))
