"""``urgent``: urgent alerts go to the coordinators at once, not at the next digest.

Urgent alerts are a referral flagged urgent and a mail refused because it
carried health data on a non-secure route. The job runs every minute, and
the daemon and ``run --once`` also call :func:`notify_urgent_safely` right
after each pass. An alert is sent once (``notified_at``, rows locked with
``SKIP LOCKED`` on PostgreSQL so two daemons never send it twice); it stays
in the digests until resolved.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from mailbot.app import App
from mailbot.clock import fr_date
from mailbot.jobs import Job, register
from mailbot.jobs.digest import (
    attach_originals,
    coordinator_recipients,
    mark_shown,
    send_to_coordinators,
)
from mailbot.workflows.digest import COORDINATION_KINDS, alert_items
from store.models import Alert, OutboxMessage

log = logging.getLogger(__name__)


def notify_urgent(app: App, now: dt.datetime | None = None) -> int:
    """Send the urgent alerts not sent yet in one mail per coordinator; return how many."""
    if not coordinator_recipients(app):
        return 0
    now = now or app.clock.now()
    with app.db.transaction() as session:
        query = (select(Alert).where(Alert.urgent.is_(True), Alert.notified_at.is_(None),
                                     Alert.resolved_at.is_(None)).order_by(Alert.id))
        if app.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        alerts = list(session.scalars(query))
        own_ids = {a.id for a in alerts if a.outbox_id is not None and session.scalar(
            select(OutboxMessage.kind).where(OutboxMessage.id == a.outbox_id)) in COORDINATION_KINDS}
        for alert in alerts:
            if alert.id in own_ids:  # a mail to coordinators was refused: a mail would be too
                alert.notified_at = now
                log.error("alert %s: a mail to the coordinators was refused; see the configuration",
                          alert.id)
        alerts = [a for a in alerts if a.id not in own_ids]
        if not alerts:
            return 0
        items = [item for _, item in alert_items(session, alerts, now)]
        attachments = attach_originals(app, session, items)
        recipients = send_to_coordinators(app, session, kind="urgent", template="urgent",
                                          context={"items": items, "date": fr_date(now)},
                                          now=now, attachments=attachments)
        if not recipients:
            return 0
        mark_shown(session, items, kind="urgent", now=now, recipients=recipients)
    log.info("urgent: %d alert(s) sent to %d coordinator(s)", len(items), len(recipients))
    return len(items)


def notify_urgent_safely(app: App) -> int:
    """:func:`notify_urgent` for the end of a pass: a failure is logged, never fatal."""
    try:
        return notify_urgent(app)
    except Exception as error:  # the next pass, or the job, tries again
        log.critical("urgent alerts not sent (%s)", type(error).__name__)
        return 0


def run(app: App, now: dt.datetime) -> str:
    """Send what is urgent and not sent yet."""
    sent = notify_urgent(app, now)
    return f"{sent} alerte(s) urgente(s) envoyée(s)" if sent else "aucune alerte urgente à envoyer"


JOB = register(Job("urgent", "envoie tout de suite les alertes urgentes aux coordinateurs",
                   "* * * * *", run))
