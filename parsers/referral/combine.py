"""A form read from an attachment together with the form typed in the mail's body.

The attachment wins on every field it gives (it is what the partner's software
holds: the identity above all); the body fills the rest. Each field on which the
two disagree is a :class:`Conflict`, for the acknowledgement and the entry's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from parsers.referral.required import missing_problems
from parsers.referral.types import CANONICAL_KEYS, FieldValue, ReferralForm

_ORDER = {key: n for n, key in enumerate(CANONICAL_KEYS)}


@dataclass(frozen=True)
class Conflict:
    """One field said differently by the attachment (kept) and by the body (set aside)."""

    key: str
    kept: str
    dropped: str


def shown(value: FieldValue) -> str:
    """A value as people read it (dates ``JJ/MM/AAAA``, booleans oui/non)."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def combine(attached: ReferralForm, body: ReferralForm | None
            ) -> tuple[ReferralForm, tuple[Conflict, ...]]:
    """The attachment's form completed by the body's; missing fields reported on the whole."""
    if body is None:
        body = ReferralForm()
    fields = {**body.fields, **attached.fields}
    conflicts = tuple(
        Conflict(key, shown(attached.fields[key]), shown(body.fields[key]))
        for key in CANONICAL_KEYS
        if key in attached.fields and key in body.fields
        and shown(attached.fields[key]).casefold() != shown(body.fields[key]).casefold())
    problems = {p.key: p for p in body.problems if p.key not in fields}
    problems.update({p.key: p for p in attached.problems if p.key not in fields})
    for problem in missing_problems(fields):
        problems.setdefault(problem.key, problem)
    ordered = tuple(sorted(problems.values(), key=lambda p: _ORDER.get(p.key, len(_ORDER))))
    return ReferralForm(fields=fields, problems=ordered, seen=attached.seen | body.seen), conflicts
