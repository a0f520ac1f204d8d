"""Figures built on the matching (issue 5) and recontact (issue 6) workflows' tables.

They go through those workflows' own query functions
(:func:`store.proposals.figures_by_gp`, :func:`store.calls.counts`), so a
change of their tables needs no change here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.stats import figures
from mailbot.stats.figures import Cubes
from mailbot.stats.period import Period
from store import calls, proposals
from store.models_matching import GP


def unavailable() -> list[str]:
    """Report keys whose source does not exist in this version (none left)."""
    return []


def call_list(session: Session) -> dict[str, Any]:
    """Patients on the coordinators' call list now, by reason (no answer, no e-mail…)."""
    by_reason = calls.counts(session)
    return {"total": sum(by_reason.values()), "by_reason": dict(sorted(by_reason.items()))}


def confirmations(cubes: Cubes) -> dict[str, Any]:
    """"Still looking" confirmations (mail or phone) received during the period, per month."""
    by_month = figures.confirmations_by_month(cubes)
    return {"total": sum(by_month.values()), "by_month": by_month}


def gp_proposals(session: Session, period: Period) -> list[dict[str, Any]]:
    """Per GP (RPPS and practice, no name): proposals sent during the period, their answers,
    the acceptance rate, and the follow-up ("devenu médecin traitant" or not)."""
    rows = proposals.figures_by_gp(session, since=period.start, until=period.end)
    practices = dict(session.execute(select(GP.id, GP.cabinet)).all())
    out = []
    for row in rows:
        if not row.proposed:
            continue
        rate = row.acceptance_rate
        out.append({
            "gp": f"RPPS {row.rpps}", "practice": practices.get(row.gp_id),
            "sent": row.proposed, "pending": row.pending, "accepted": row.accepted,
            "declined": row.declined, "expired": row.expired, "cancelled": row.cancelled,
            "acceptance_rate": None if rate is None else round(rate, 3),
            "became_mt": row.became_mt, "not_mt": row.not_mt,
        })
    return sorted(out, key=lambda g: (-g["sent"], g["gp"]))
