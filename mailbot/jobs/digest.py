"""``digest``: the coordinators' daily digest (nothing is sent when there is nothing to say).

Also :func:`send_to_coordinators`, shared with the ``urgent`` job: one copy
per coordinator, over MSSanté only, with the original mails attached.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import fr_date
from mailbot.errors import EncryptionRequiredError
from mailbot.jobs import Job, register
from mailbot.outbound.compose import MailAttachment, build_mail, new_message_id
from mailbot.outbound.protection import escalate_unencrypted, outgoing_bytes
from mailbot.outbound.routing import choose_route, routes_of
from mailbot.workflows.digest import Item, collect, resolve_settled_alerts
from store import outbox
from store.models import Alert, InboundMessage
from store.models_coordination import DigestRun, InboundNotice

log = logging.getLogger(__name__)


def coordinator_recipients(app: App) -> list[str]:
    """``[coordination] recipients``, else the full addresses of ``[senders] coordinators``."""
    configured = app.config.coordination.recipients
    return list(configured) if configured else [
        c for c in app.config.senders.coordinators if "@" in c]


def secure_recipients(app: App) -> list[str]:
    """The coordinators reachable on a route allowed to carry health data (MSSanté)."""
    routes = routes_of(app.config.outbound)
    recipients = coordinator_recipients(app)
    secure = [r for r in recipients if choose_route(routes, r).secure]
    if len(secure) < len(recipients):
        log.error("%d coordinator address(es) on a non-secure route: no digest or alert sent there",
                  len(recipients) - len(secure))
    return secure


def attach_originals(app: App, session: Session, items: list[Item]) -> list[MailAttachment]:
    """The original mail of each new item, within ``max_attachments_mb``; marks ``item.attached``."""
    cfg = app.config.coordination
    if not cfg.attach_originals:
        return []
    budget = int(cfg.max_attachments_mb * 1_000_000)
    attachments: list[MailAttachment] = []
    seen: set[int] = set()
    for item in items:
        if item.original_id is None or item.original_id in seen:
            continue
        seen.add(item.original_id)
        size, raw_missing = session.execute(
            select(func.coalesce(InboundMessage.size, 0), InboundMessage.raw.is_(None))
            .where(InboundMessage.id == item.original_id)).one()
        if raw_missing or size > budget:
            item.reason += " (message d'origine non joint : effacé ou trop volumineux)"
            continue
        raw = session.scalar(select(InboundMessage.raw).where(InboundMessage.id == item.original_id))
        assert raw is not None
        budget -= len(raw)
        item.attached = f"message-{item.original_id}.eml"
        attachments.append(MailAttachment(item.attached, raw))
    return attachments


def send_to_coordinators(app: App, session: Session, *, kind: str, template: str,
                         context: dict[str, Any], now: dt.datetime,
                         attachments: list[MailAttachment]) -> list[str]:
    """Render once and enqueue one copy per secure coordinator address; return the recipients."""
    recipients = secure_recipients(app)
    if not recipients:
        return []
    rendered = app.templates.render(template, cpts=app.config.identity, **context)
    sent = []
    for recipient in recipients:
        message_id = new_message_id(app.config.identity.domain)
        msg = build_mail(identity=app.config.identity, to=[recipient], rendered=rendered,
                         message_id=message_id, now=now, auto_submitted="auto-generated",
                         attachments=attachments)
        try:
            raw = outgoing_bytes(app, msg, recipient)
        except EncryptionRequiredError:
            escalate_unencrypted(session, kind=kind, recipient=recipient, now=now, entry_id=None,
                                 inbound_id=None)
            continue
        outbox.enqueue(session, message_id=message_id, kind=kind, sender=app.config.identity.address,
                       recipients=[recipient], raw=raw, health_data=True, now=now)
        sent.append(recipient)
    return sent


def mark_shown(session: Session, items: list[Item], *, kind: str, now: dt.datetime,
               recipients: list[str]) -> DigestRun:
    """Record the run and what it showed for the first time (alerts, set-aside mails)."""
    run = DigestRun(at=now, kind=kind, items=len(items), new_items=sum(1 for i in items if i.new),
                    recipients=recipients)
    session.add(run)
    session.flush()
    alert_ids = [i.alert_id for i in items if i.new and i.alert_id is not None]
    for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
        alert.notified_at = now
    for inbound_id in {i.inbound_id for i in items if i.new and i.inbound_id is not None}:
        session.add(InboundNotice(inbound_message_id=inbound_id, notified_at=now,
                                  digest_run_id=run.id))
    return run


def run(app: App, now: dt.datetime) -> str:
    """Collect, send and record one digest."""
    if not coordinator_recipients(app):
        return ("aucun destinataire : renseignez [coordination] recipients ou des adresses "
                "complètes dans [senders] coordinators")
    with app.db.transaction() as session:
        settled = resolve_settled_alerts(session, now, app.config.coordination.reminder_days)
        last_run_at = session.scalar(select(func.max(DigestRun.at)).where(DigestRun.kind == "digest"))
        digest = collect(app, session, now, last_run_at)
        if not digest.sections:
            return "rien à signaler : aucune synthèse envoyée" + (
                f" ({settled} alerte(s) close(s) d'elles-mêmes)" if settled else "")
        items = digest.items
        attachments = attach_originals(app, session, items)
        context = {"digest": digest, "sections": digest.sections, "total": len(items),
                   "new": digest.new_count, "date": fr_date(now), "attachments": len(attachments),
                   "thresholds": app.config.coordination}
        recipients = send_to_coordinators(app, session, kind="digest", template="digest",
                                          context=context, now=now, attachments=attachments)
        if not recipients:
            return "aucun coordinateur joignable par MSSanté : synthèse non envoyée"
        mark_shown(session, items, kind="digest", now=now, recipients=recipients)
    log.info("digest: %d item(s), %d new, %d recipient(s), %d attachment(s)", len(items),
             digest.new_count, len(recipients), len(attachments))
    return (f"synthèse envoyée à {len(recipients)} coordinateur(s) : {len(items)} point(s) "
            f"dont {digest.new_count} nouveau(x)")


JOB = register(Job("digest", "synthèse des points à voir pour les coordinateurs (rien si rien à dire)",
                   "0 8 * * *", run))
