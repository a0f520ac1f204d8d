"""``mailbot patient export``: everything held on one person, as JSON (right of access, art. 15).

The entry, its history, the mails received about her and those sent, the
proposals, recontact rounds, call list items and tokens, and the audit rows
that concern her. Raw mails are given as text (undecodable bytes replaced).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.errors import NotFoundError
from store import privacy
from store.models import Entry, EntryEvent, InboundMessage, OutboxMessage, Token
from store.models_matching import Proposal
from store.models_recontact import CallItem, RecontactRound


def plain(value: Any) -> Any:
    """A column value as JSON: dates ISO, bytes as text, enums as their value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row(obj: Any) -> dict[str, Any]:
    """Every column of a model instance, as JSON."""
    return {c.key: plain(getattr(obj, c.key)) for c in obj.__table__.columns}


def find(session: Session, *, ref: str | None = None, ins: str | None = None) -> list[Entry]:
    """The entries of one person, by reference or by INS; NotFoundError when none."""
    if ref is not None:
        found = list(session.scalars(select(Entry).where(Entry.ref == ref)))
        what = f"aucune inscription {ref} : vérifiez la référence"
    else:
        nir = re.sub(r"[\s.-]", "", ins or "").upper()
        match = Entry.ins == nir if len(nir) != 13 else Entry.ins.startswith(nir, autoescape=True)
        found = list(session.scalars(select(Entry).where(match).order_by(Entry.id)))
        what = "aucune inscription pour ce NIR : vérifiez les 13 ou 15 chiffres"
    if not found:
        raise NotFoundError(what)
    return found


def _all(session: Session, model: Any, column: Any, value: Any) -> list[dict[str, Any]]:
    return [row(o) for o in session.scalars(select(model).where(column == value).order_by(model.id))]


def export_entry(session: Session, entry: Entry) -> dict[str, Any]:
    """Everything held about one entry."""
    mails = privacy.inbound_ids(session, entry)
    inbound = [row(m) for m in session.scalars(select(InboundMessage)
                                               .where(InboundMessage.id.in_(mails))
                                               .order_by(InboundMessage.id))] if mails else []
    return {
        "entry": row(entry),
        "history": _all(session, EntryEvent, EntryEvent.entry_id, entry.id),
        "mails_received": inbound,
        "mails_sent": _all(session, OutboxMessage, OutboxMessage.entry_id, entry.id),
        "proposals": _all(session, Proposal, Proposal.entry_id, entry.id),
        "recontact_rounds": _all(session, RecontactRound, RecontactRound.entry_id, entry.id),
        "call_list": _all(session, CallItem, CallItem.entry_id, entry.id),
        "tokens": _all(session, Token, Token.entry_id, entry.id),
        "audit": [row(r) for r in privacy.audit_rows_about(session, entry, mails)],
    }


def export(session: Session, entries: list[Entry], *, now: dt.datetime) -> dict[str, Any]:
    """The JSON document of ``mailbot patient export``."""
    return {"exported_at": now.isoformat(), "entries": [export_entry(session, e) for e in entries]}
