"""Enqueueing outgoing mails: render, assemble, fix the Message-ID, issue the token."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.config.senders import Role
from mailbot.errors import EncryptionRequiredError
from mailbot.outbound.compose import as_bytes, build_mail, new_message_id
from mailbot.outbound.protection import escalate_unencrypted, outgoing_bytes
from store import audit, outbox, tokens
from store.alerts import raise_alert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thread:
    """What we answer: the Message-ID and References of the mail we reply to."""

    message_id: str | None = None
    references: tuple[str, ...] = ()


def reply_limit(app: App, recipient: str) -> int:
    """How many answers ``recipient`` may get per hour.

    Known partners, coordinators and GPs send batches on purpose (twenty
    referrals in a morning): their cap is ``replies_per_partner_per_hour``.
    Everyone else (patients, strangers, robots) gets ``replies_per_sender_per_hour``.
    """
    limits = app.config.limits
    if app.directory.role(recipient) in (Role.PARTNER, Role.ALLOWED, Role.COORDINATOR, Role.GP):
        return limits.replies_per_partner_per_hour
    return limits.replies_per_sender_per_hour


def reply_rate_exceeded(app: App, session: Session, recipient: str, now: dt.datetime) -> bool:
    """True when we already answered ``recipient`` too often this hour (loop guard)."""
    since = now - dt.timedelta(hours=1)
    return outbox.sent_to_since(session, recipient, since) >= reply_limit(app, recipient)


def _record_capped(session: Session, *, kind: str, now: dt.datetime, entry_id: int | None,
                   inbound_id: int | None, limit: int) -> None:
    """Audit and alert an answer skipped by the hourly cap (one open alert per entry)."""
    audit.record(session, actor="system", action="outbox.capped", object_type="outbox",
                 after={"kind": kind, "entry_id": entry_id}, inbound_message_id=inbound_id, at=now)
    raise_alert(session, kind="reply_rate_capped", now=now, entry_id=entry_id,
                reason=f"réponse « {kind} » non envoyée : plus de {limit} réponses en une heure "
                       "au même destinataire (boucle possible)")
    log.warning("mail %s not enqueued: hourly reply cap reached (inbound %s)", kind, inbound_id)


def enqueue_mail(app: App, session: Session, *, kind: str, to: str, template: str,
                 context: dict[str, Any], now: dt.datetime, health_data: bool,
                 thread: Thread | None = None, token_kind: str | None = None,
                 token_ttl_days: float = 30.0, entry_id: int | None = None,
                 object_id: int | None = None, inbound_id: int | None = None,
                 auto_submitted: str = "auto-replied") -> int | None:
    """Render ``template`` and put the mail in the outbox, in the caller's transaction.

    With ``token_kind`` a correlation token bound to ``to`` is issued and given
    to the template as ``token``. Returns the outbox id — or ``None`` when an
    answer (``auto-replied``) is not sent because ``to`` already got
    ``[limits] replies_per_sender_per_hour`` mails this hour (loop guard; the
    skip is audited and alerted, the workflow goes on), or when the recipient's
    route requires encryption and no key is known (the mail is kept in the outbox,
    refused, never sent in plaintext, and escalated; RENVOYER sends it encrypted once
    the key is imported).
    """
    if auto_submitted == "auto-replied" and reply_rate_exceeded(app, session, to, now):
        _record_capped(session, kind=kind, now=now, entry_id=entry_id, inbound_id=inbound_id,
                       limit=reply_limit(app, to))
        return None
    message_id = new_message_id(app.config.identity.domain)
    ctx = dict(context)
    ctx.setdefault("cpts", app.config.identity)
    if token_kind:
        ctx["token"] = tokens.issue(session, kind=token_kind, recipient=to, now=now,
                                    ttl_days=token_ttl_days, entry_id=entry_id,
                                    object_id=object_id, outbox_message_id=message_id)
    rendered = app.templates.render(template, **ctx)
    thread = thread or Thread()
    msg = build_mail(identity=app.config.identity, to=[to], rendered=rendered,
                     message_id=message_id, now=now, in_reply_to=thread.message_id,
                     references=thread.references, auto_submitted=auto_submitted)
    try:
        raw, refused = outgoing_bytes(app, msg, to), False
    except EncryptionRequiredError:  # kept, refused at once: RENVOYER once the key is imported
        raw, refused = as_bytes(msg), True
    outbox_id = outbox.enqueue(session, message_id=message_id, kind=kind,
                         sender=app.config.identity.address, recipients=[to],
                         raw=raw, health_data=health_data, now=now,
                         entry_id=entry_id, inbound_id=inbound_id)
    if refused:
        escalate_unencrypted(session, kind=kind, recipient=to, now=now, entry_id=entry_id,
                             inbound_id=inbound_id, outbox_id=outbox_id)
    log.debug("mail %s enqueued (outbox %s)", kind, outbox_id)
    return outbox_id

