"""One proposal: the row with its explanation, the entry ``proposed``, the mail to the GP.

The proposal mail goes on the MSSanté route (health data: criteria) and
carries a ``[CPTS-P-…]`` token bound to the GP; it says what a GP needs to
decide — age band, commune, criteria, days waited, kind of referrer — and
nothing that identifies the patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import fr_date
from mailbot.matching.describe import proposal_context
from mailbot.outbound.mailer import Thread, enqueue_mail
from store import entries
from store import proposals as proposal_store
from store.models import Entry, EntryStatus, Token
from store.models_matching import GP, Proposal
from store.proposals import NewProposal
from store.types import UTCDateTime

PROPOSAL_TOKEN = "P"
FOLLOWUP_TOKEN = "S"
TOKEN_GRACE_DAYS = 3.0  # a late answer still reaches the workflow, which explains it is late

# The GP's mail commands by intent, with the help line every mail to a GP recalls
# (handlers in mailbot.workflows.gp_mail).
COMMAND_HELP: dict[str, str] = {
    "pause": "PAUSE : suspendre les propositions",
    "resume": "REPRISE : recevoir à nouveau des propositions",
    "capacity": "CAPACITE n : accepter au plus n nouveaux patients par mois",
    "request": "DEMANDE n : recevoir n propositions tout de suite",
}


def gp_context(gp: GP) -> dict[str, Any]:
    """What every mail to a GP may use about him."""
    return {"gp": gp, "commands": list(COMMAND_HELP.values())}


def first_message_id(session: Session, proposal: Proposal, kind: str = "P") -> str | None:
    """The Message-ID of the first mail of a proposal (or of its follow-up), to thread under it."""
    return session.scalar(select(Token.outbox_message_id)
                          .where(Token.kind == kind, Token.object_id == proposal.id)
                          .order_by(Token.id).limit(1))


def send_proposal_mail(app: App, session: Session, proposal: Proposal, entry: Entry, gp: GP,
                       now: dt.datetime, *, reminder: bool = False, after_decline: bool = False,
                       inbound_id: int | None = None) -> int | None:
    """Enqueue the proposal (or its reminder) with a fresh token; return the outbox id."""
    cfg = app.config.matching
    ttl = (proposal.expires_at - now).total_seconds() / 86400.0 + TOKEN_GRACE_DAYS
    thread = Thread(message_id=first_message_id(session, proposal)) if reminder else None
    return enqueue_mail(
        app, session, kind="proposal_reminder" if reminder else "proposal", to=gp.email,
        template="proposal_reminder" if reminder else "proposal", now=now, health_data=True,
        thread=thread, token_kind=PROPOSAL_TOKEN, token_ttl_days=ttl, entry_id=entry.id,
        object_id=proposal.id, inbound_id=inbound_id, auto_submitted="auto-generated",
        context={**gp_context(gp), **proposal_context(entry, now), "entry": entry,
                 "after_decline": after_decline, "deadline": fr_date(proposal.expires_at),
                 "expiry_days": int(cfg.proposal_expiry_days)},
    )


def make_proposals(app: App, session: Session, new: Sequence[NewProposal], now: dt.datetime, *,
                   actor: str, inbound_id: int | None = None) -> list[Proposal]:
    """Propose waiting entries to GPs: proposal rows, entries ``proposed``, one mail each.

    The caller has checked each entry is ``waiting`` and its GP may receive
    it; the unique index on pending proposals stops a second GP at the
    database. The rows are written in one batch.
    """
    if not new:
        return []
    cfg = app.config.matching
    made = proposal_store.create_many(session, new, now=now, actor=actor,
                                      expires_at=now + dt.timedelta(days=cfg.proposal_expiry_days))
    for proposal, item in zip(made, new, strict=True):
        entries.set_status(session, item.entry, EntryStatus.PROPOSED, now=now, actor=actor,
                           reason=f"proposition {proposal.id} à un médecin (RPPS {item.gp.rpps})",
                           inbound_id=inbound_id)
        send_proposal_mail(app, session, proposal, item.entry, item.gp, now,
                           after_decline=item.kind == "after_decline", inbound_id=inbound_id)
    return made


def make_proposal(app: App, session: Session, entry: Entry, gp: GP, now: dt.datetime, *,
                  kind: str, explanation: dict[str, Any], actor: str,
                  inbound_id: int | None = None) -> Proposal:
    """One proposal (see :func:`make_proposals`)."""
    [proposal] = make_proposals(app, session, [NewProposal(entry, gp, kind, explanation)], now,
                                actor=actor, inbound_id=inbound_id)
    return proposal


# No synchronisation of the session's Token objects: it would test every object the
# session holds, on every answer of a batch; nothing reads ``used_at`` from a loaded token.
_CLOSE_TOKENS = (update(Token).where(Token.kind == bindparam("token_kind"),
                                     Token.object_id == bindparam("closed_object"),
                                     Token.used_at.is_(None))
                 .values(used_at=bindparam("closed_at", type_=UTCDateTime()))
                 .execution_options(synchronize_session=False))


def close_tokens(session: Session, proposal: Proposal, kind: str, now: dt.datetime) -> None:
    """Mark the tokens of a proposal's mails (of one kind) used: the question is answered."""
    with session.no_autoflush:  # the pending changes bear on no token row (see store.tokens)
        session.execute(_CLOSE_TOKENS, {"token_kind": kind, "closed_object": proposal.id,
                                        "closed_at": now})
