"""A proposal and why it was made, as a coordinator reads it (``mailbot entries show``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from mailbot.clock import fr_date
from mailbot.matching.criteria import group_label
from mailbot.matching.policy import POLICY_LABELS
from store import proposals as proposal_store
from store.models_matching import Proposal

_KINDS = {"round": "tour de propositions", "request": "demande du médecin (DEMANDE)",
          "after_decline": "après un refus du médecin", "forced": "imposée par la coordination",
          "manual": "faite par la coordination"}
_FOLLOWUP = {"asked": "question posée", "reminded": "relancé", "became_mt": "devenu médecin traitant",
             "not_mt": "pas devenu médecin traitant", "no_answer": "sans réponse",
             "cancelled": "annulé", "pending": "pas encore (question reposée plus tard)"}


def _iso_date(text: str | None) -> str:
    return fr_date(dt.date.fromisoformat(text)) if text else "?"


def why(explanation: dict[str, Any]) -> str:
    """The explanation stored with a proposal, in one French line."""
    parts: list[str] = []
    policy = explanation.get("policy", "?")
    if explanation.get("forced"):
        parts.append(f"proposition imposée ({explanation.get('actor', '?')})")
    else:
        parts.append(POLICY_LABELS.get(policy, policy))
    if policy == "criteria" and "group" in explanation:
        parts.append(f"groupe « {group_label(explanation['group'])} » "
                     f"({explanation.get('group_position')}e sur "
                     f"{len(explanation.get('groups', [])) + 1})")
    if policy == "weighted" and "terms" in explanation:
        terms = explanation["terms"]
        detail = " + ".join(f"attente {v:g} j" if k == "attente" else f"{group_label(k)} {v:g}"
                            for k, v in terms.items())
        parts.append(f"score {explanation.get('score', 0):g} = {detail}")
    parts.append(f"inscrit le {_iso_date(explanation.get('registered'))}, "
                 f"{explanation.get('waiting_days', '?')} j d'attente")
    if "rank" in explanation:
        parts.append(f"rang {explanation['rank']} sur {explanation.get('candidates', '?')} "
                     "candidats compatibles")
    mix = explanation.get("mix")
    if mix:
        parts.append(f"panachage : {mix['complex_in_period']} situation(s) complexe(s) en "
                     f"{mix['period_days']} j (au plus {mix['max_complex']})")
    kind = explanation.get("kind")
    if kind in _KINDS:
        parts.append(_KINDS[kind])
    return " ; ".join(parts)


def outcome(proposal: Proposal) -> str:
    """What became of a proposal (and of its follow-up)."""
    decided = fr_date(proposal.decided_at) if proposal.decided_at else "?"
    text = {
        "pending": f"en attente de réponse (jusqu'au {fr_date(proposal.expires_at)})"
                   + (", relancé" if proposal.reminded_at else ""),
        "accepted": f"acceptée le {decided}",
        "declined": f"déclinée le {decided}"
                    + (f" (motif : {proposal.decline_reason})" if proposal.decline_reason else ""),
        "expired": f"expirée sans réponse le {decided}",
        "cancelled": f"retirée le {decided}",
    }.get(proposal.state, proposal.state)
    if proposal.followup_state:
        text += f" ; suivi : {_FOLLOWUP.get(proposal.followup_state, proposal.followup_state)}"
    return text


def proposal_lines(session: Session, entry_id: int) -> list[str]:
    """Lines describing every proposal of an entry, oldest first (empty when none)."""
    lines = []
    for proposal in proposal_store.of_entry(session, entry_id):
        gp = proposal.gp
        lines.append(f"  {fr_date(proposal.created_at)} → {gp.display_name} (RPPS {gp.rpps}) : "
                     f"{outcome(proposal)}")
        lines.append(f"      pourquoi : {why(proposal.explanation)}")
    return lines
