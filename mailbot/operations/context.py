"""Who acts and in which transaction, and how a reference typed by a person is found.

Refusals raise :class:`~mailbot.errors.UsageError` (wrong state or argument) or
:class:`~mailbot.errors.NotFoundError` (unknown reference), whose message says
what to do instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import local_date
from mailbot.errors import NotFoundError, UsageError
from store import audit, entries
from store.models import Alert, Entry
from store.refs import ALPHABET, normalise_ref

_REF = re.compile(rf"E-[{ALPHABET}]{{6}}")


@dataclass(frozen=True)
class OpContext:
    """Who acts, when, and in which transaction (and, by mail, from which inbound mail)."""

    app: App
    session: Session
    actor: str
    now: dt.datetime
    inbound_id: int | None = None


def parse_ref(text: str) -> str:
    """An entry reference as typed (``e-7qk2m9``, ``7QK2M9``) → ``E-7QK2M9``; UsageError if unreadable."""
    ref = normalise_ref(text.strip().strip(".,;:()«»\"'"))
    if not _REF.fullmatch(ref):
        raise UsageError(f"référence illisible « {text.strip()[:30]} » : attendu E- suivi de "
                         "6 caractères, ex. E-7QK2M9")
    return ref


def find_entry(ctx: OpContext, text: str) -> Entry:
    """The entry named by ``text``; NotFoundError when there is none."""
    ref = parse_ref(text)
    entry = entries.get_by_ref(ctx.session, ref)
    if entry is None:
        raise NotFoundError(f"aucune inscription {ref} : vérifiez la référence")
    return entry


def days_since(ctx: OpContext, since: dt.datetime) -> int:
    """Whole days from ``since`` to now, in local dates."""
    return max(0, (local_date(ctx.now) - local_date(since)).days)


def resolve_alerts(ctx: OpContext, *, entry_id: int | None = None, subject_ref: str | None = None,
                   kinds: Iterable[str] | None = None, prefix: str | None = None) -> int:
    """Mark the matching open alerts resolved (the coordinator acted); return how many."""
    query = select(Alert).where(Alert.resolved_at.is_(None))
    if entry_id is not None:
        query = query.where(Alert.entry_id == entry_id)
    if subject_ref is not None:
        query = query.where(Alert.subject_ref == subject_ref)
    if kinds is not None:
        query = query.where(Alert.kind.in_(list(kinds)))
    if prefix is not None:
        query = query.where(Alert.kind.startswith(prefix))
    alerts = list(ctx.session.scalars(query))
    for alert in alerts:
        alert.resolved_at = ctx.now
        audit.record(ctx.session, actor=ctx.actor, action="alert.resolve", object_type="alert",
                     object_id=alert.id, after={"kind": alert.kind},
                     inbound_message_id=ctx.inbound_id, at=ctx.now)
    return len(alerts)
