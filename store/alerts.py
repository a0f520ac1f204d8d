"""Alerts: what the coordinators must see, in the digest or at once when urgent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Alert


def raise_alert(session: Session, *, kind: str, reason: str, now: dt.datetime,
                urgent: bool = False, entry_id: int | None = None,
                inbound_message_id: int | None = None, outbox_id: int | None = None,
                subject_ref: str | None = None) -> Alert:
    """Record something a coordinator must see, in the caller's transaction.

    ``reason`` is one French line without patient identity (the digest adds
    the entry reference). The same open alert (kind and object) is not
    raised twice.
    """
    existing = session.scalars(
        select(Alert).where(Alert.kind == kind, Alert.entry_id == entry_id,
                            Alert.inbound_message_id == inbound_message_id,
                            Alert.outbox_id == outbox_id, Alert.subject_ref == subject_ref,
                            Alert.resolved_at.is_(None)).limit(1)
    ).first()
    if existing is not None:
        return existing
    alert = Alert(created_at=now, kind=kind, reason=reason[:300], urgent=urgent, entry_id=entry_id,
                  inbound_message_id=inbound_message_id, outbox_id=outbox_id,
                  subject_ref=subject_ref)
    session.add(alert)  # written with the session's next flush (before any read of alerts)
    return alert


def open_alerts(session: Session, *, urgent: bool | None = None) -> list[Alert]:
    """Unresolved alerts, oldest first."""
    query = select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id)
    if urgent is not None:
        query = query.where(Alert.urgent.is_(urgent))
    return list(session.scalars(query))
