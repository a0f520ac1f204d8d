"""Mail written by machines about our mails: bounces and automatic replies. Never answered.

* A **bounce** about one of our mails marks each failed recipient's address
  (permanent at once, temporary after ``temporary_failures_before_failing``);
  when the mail was a recontact question and the address now fails, the
  round ends ``bounced`` and the entry goes on the call list. A permanent
  failure of any other mail of ours raises a ``bounce`` alert. The mail ends
  ``processed``; a bounce about nothing we sent (or unreadable) stays
  ``ignored``, as before.
* An **automatic reply** stays ``ignored``; when it answers a recontact mail,
  the round counts it (the call list then says an absence notice came).

The returned mail is found by its Message-ID (attached or quoted), else by a
``[CPTS-R-…]`` token quoted in the notice, else by the failed address's
latest recontact round. Only recipients of that mail can be marked: a forged
bounce cannot fail an arbitrary address.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import Message

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.workflows.base import Outcome, Verdict
from parsers.addresses import address_of
from parsers.bounces import BounceFailure, analyse_bounce
from parsers.mime import decode_bytes, header
from parsers.tokens import TOKEN_RE, referenced_ids
from store import addresses, calls, recontact, tokens
from store.addresses import Failure
from store.alerts import raise_alert
from store.models import OPEN_STATUSES, Entry, InboundMessage, InboundState, OutboxMessage
from store.models_recontact import AddressState, CallReason, RecontactRound, RoundOutcome

log = logging.getLogger(__name__)

MACHINE_KINDS = frozenset({"bounce", "auto_reply"})


def handle_machine_mail(app: App, session: Session, row: InboundMessage, msg: Message,
                        verdict: Verdict) -> Outcome:
    """Act on a bounce or note an automatic reply; the caller records the returned state."""
    if verdict.kind == "bounce":
        return handle_bounce(app, session, row)
    entry_id = note_auto_reply(app, session, msg)
    return Outcome(verdict.state or InboundState.IGNORED, verdict.reason, verdict.kind, entry_id)


def note_auto_reply(app: App, session: Session, msg: Message) -> int | None:
    """Count an absence notice on the recontact round it answers; return the entry id."""
    ids = referenced_ids(msg, app.config.identity.domain)
    match = TOKEN_RE.search(header(msg, "Subject"))
    if match:
        token = tokens.find(session, match.group(2))
        if token is not None and token.outbox_message_id:
            ids.append(token.outbox_message_id)
    rnd = recontact.round_of_message(session, ids)
    if rnd is None:
        sender = address_of(header(msg, "From"))
        rnd = session.scalars(select(RecontactRound).where(
            RecontactRound.address == sender, RecontactRound.closed_at.is_(None))
            .limit(1)).first() if sender else None
    if rnd is None:
        return None
    rnd.auto_replies = (rnd.auto_replies or 0) + 1
    return rnd.entry_id


def _returned_mails(app: App, session: Session, raw: bytes,
                    message_ids: tuple[str, ...]) -> list[OutboxMessage]:
    suffix = "@" + app.config.identity.domain.lower() + ">"
    ours = [m for m in message_ids if m.lower().endswith(suffix)]
    for code in {m.group(2).upper() for m in TOKEN_RE.finditer(decode_bytes(raw))}:
        token = tokens.find(session, code)
        if token is not None and token.outbox_message_id:
            ours.append(token.outbox_message_id)
    if not ours:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.message_id.in_(ours))))


def _latest_round(session: Session, address: str, now: dt.datetime,
                  ttl_days: int) -> RecontactRound | None:
    """The newest recontact round to ``address`` recent enough for a bounce to be about it."""
    return session.scalars(
        select(RecontactRound).where(RecontactRound.address == address,
                                     RecontactRound.opened_at >= now - dt.timedelta(days=ttl_days))
        .order_by(RecontactRound.id.desc()).limit(1)
    ).first()


def _mark_recontact(app: App, session: Session, row: InboundMessage, failure: BounceFailure,
                    message_id: str, entry_id: int, failing: bool, now: dt.datetime) -> None:
    """A recontact mail bounced: close the round and call the patient once the address fails."""
    if not failing:
        return
    rnd = recontact.round_of_message(session, [message_id]) or recontact.open_round(session, entry_id)
    if rnd is not None and rnd.closed_at is None:
        recontact.close_round(rnd, RoundOutcome.BOUNCED, now=now)
    entry = session.get(Entry, entry_id)
    if entry is not None and entry.status in OPEN_STATUSES:
        detail = f"non-remise définitive (statut {failure.status})" if failure.status else \
            "non-remise définitive"
        if not failure.permanent:
            detail = "non-remises temporaires répétées"
        calls.add(session, entry, CallReason.ADDRESS_FAILING, now=now, detail=detail,
                  actor=f"mail:{row.id}", inbound_id=row.id)


def handle_bounce(app: App, session: Session, row: InboundMessage) -> Outcome:
    """Record the failures a bounce reports about our mails (see the module docstring)."""
    assert row.raw is not None
    now = app.clock.now()
    cfg = app.config.recontact
    report = analyse_bounce(row.raw, own_addresses=(app.config.identity.address,))
    if not report.failures:
        return Outcome(InboundState.IGNORED, "avis de non-remise sans destinataire lisible", "bounce")
    mails = _returned_mails(app, session, row.raw, report.message_ids)
    entry_ids: list[int] = []
    recorded = 0
    for failure in report.failures:
        mail = next((m for m in mails if failure.address in {r.lower() for r in m.recipients}), None)
        if mail is not None:
            message_id, entry_id, kind = mail.message_id, mail.entry_id, mail.kind
        else:
            rnd = _latest_round(session, failure.address, now, cfg.token_ttl_days)
            if rnd is None:
                continue  # not a recipient of ours: never mark an address on a stranger's word
            message_id, entry_id, kind = rnd.first_message_id, rnd.entry_id, "recontact"
        status = addresses.record_failure(
            session, Failure(failure.address, failure.permanent, failure.status), now=now,
            temporary_threshold=cfg.temporary_failures_before_failing, entry_id=entry_id,
            inbound_id=row.id, outbox_message_id=message_id, actor=f"mail:{row.id}")
        recorded += 1
        if entry_id is not None:
            entry_ids.append(entry_id)
        if kind.startswith("recontact") and entry_id is not None:
            _mark_recontact(app, session, row, failure, message_id, entry_id,
                            status.state == AddressState.FAILING, now)
        elif failure.permanent and mail is not None:
            raise_alert(session, kind="bounce", now=now, entry_id=entry_id, outbox_id=mail.id,
                        inbound_message_id=row.id,
                        reason=f"message « {kind} » non remis"
                               + (f" (statut {failure.status})" if failure.status else ""))
    if not recorded:
        return Outcome(InboundState.IGNORED, "avis de non-remise sans lien avec nos messages",
                       "bounce")
    log.info("bounce %s: %d failure(s) recorded", row.id, recorded)
    return Outcome(InboundState.PROCESSED, "non-remise enregistrée", "bounce",
                   entry_ids[0] if entry_ids else None)
