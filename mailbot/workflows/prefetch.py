"""What a batch of replies will look up, read before its first mail: one query per table.

Each reply finds its token (by the ``[CPTS-…]`` code of its subject or the
Message-ID it answers), then the proposal or entry the token is about. Read
mail by mail, that is three queries per reply (four with the GP locked); read here
for the whole batch, the workflows find them in the session (:func:`store.tokens.prefetch`, the
identity map). A mail this misses (an encoded subject, say) is looked up as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.matching.offer import FOLLOWUP_TOKEN, PROPOSAL_TOKEN
from mailbot.matching.round import lock_gps
from parsers.mime import decode_header_text
from parsers.tokens import TOKEN_RE, referenced_ids
from store import tokens, transaction_state
from store.models import Entry
from store.models_matching import Proposal


def prefetch_replies(app: App, session: Session, mails: Iterable[Message]) -> None:
    """Load the tokens the batch's ``mails`` name, and their proposals and entries."""
    codes: set[str] = set()
    message_ids: set[str] = set()
    for msg in mails:
        try:
            subject = str(msg.get("Subject", ""))
            if "=?" in subject:
                subject = decode_header_text(subject)
            codes.update(code for _, code in TOKEN_RE.findall(subject))
            message_ids.update(referenced_ids(msg, app.config.identity.domain))
        except Exception:  # an unreadable header: this mail is looked up on its own
            continue
    found = tokens.prefetch(session, codes, message_ids)
    proposal_ids = {t.object_id for t in found
                    if t.kind in (PROPOSAL_TOKEN, FOLLOWUP_TOKEN) and t.object_id is not None}
    entry_ids = {t.entry_id for t in found if t.entry_id is not None}
    # The session's identity map holds its objects weakly: they are kept here until the
    # transaction ends, else they would be gone before the mails that need them.
    kept: list[object] = transaction_state.setdefault(session, "prefetched_rows", list)
    with session.no_autoflush:  # nothing is pending at the start of a batch
        if proposal_ids:
            proposals = session.scalars(select(Proposal).where(Proposal.id.in_(proposal_ids))).all()
            kept += proposals
        if entry_ids:
            kept += session.scalars(select(Entry).where(Entry.id.in_(entry_ids))).all()
    if proposal_ids:  # their GPs, locked once for the batch (GPs before entries, as always)
        lock_gps(session, sorted({proposal.gp_id for proposal in proposals}))
