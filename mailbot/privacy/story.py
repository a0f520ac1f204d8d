"""``mailbot audit show REF``: an entry's whole story from the audit trail, in French.

Each line says when (Paris time), who (the actor), what (the action and its
states) and from which mail (its number, Message-ID, sender and kind).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.clock import PARIS
from store import privacy
from store.models import Entry, InboundMessage

ACTIONS: dict[str, str] = {
    "entry.create": "inscription créée", "entry.status": "changement d'état",
    "entry.merged": "informations ajoutées", "entry.completed": "fiche complétée",
    "entry.confirmed": "le patient cherche toujours", "entry.priority": "priorité",
    "entry.resend": "message renvoyé", "entry.anonymised": "anonymisée (durée de conservation)",
    "entry.erased": "effacée à la demande de la personne", "inbound.finish": "message traité",
    "proposal.create": "proposition à un médecin", "proposal.accepted": "proposition acceptée",
    "proposal.declined": "proposition déclinée", "proposal.expired": "proposition expirée",
    "proposal.cancelled": "proposition retirée", "call.add": "mise sur la liste d'appels",
    "call.record": "appel enregistré", "address.failing": "adresse en échec",
    "address.ok": "adresse de nouveau valide",
}


def _states(values: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((values or {}).items()) if v not in (None, ""))


def _mail(message: InboundMessage | None, ident: int) -> str:
    if message is None:
        return f" ; message n° {ident}"
    parts = [f"message n° {ident}"]
    if message.message_id:
        parts.append(f"<{message.message_id}>")
    if message.sender:
        parts.append(f"de {message.sender}")
    if message.kind:
        parts.append(f"({message.kind}, {message.state})")
    return " ; " + " ".join(parts)


def story(session: Session, entry: Entry) -> list[str]:
    """One line per audit row about the entry, oldest first."""
    mails = privacy.inbound_ids(session, entry)
    rows = privacy.audit_rows_about(session, entry, mails)
    ids = {r.inbound_message_id for r in rows if r.inbound_message_id}
    messages = {m.id: m for m in session.scalars(select(InboundMessage)
                                                 .where(InboundMessage.id.in_(ids)))} if ids else {}
    lines = []
    for r in rows:
        what = ACTIONS.get(r.action, r.action)
        before, after = _states(r.before), _states(r.after)
        change = f" : {before} → {after}" if before else (f" : {after}" if after else "")
        mail = _mail(messages.get(r.inbound_message_id), r.inbound_message_id) \
            if r.inbound_message_id else ""
        lines.append(f"{r.at.astimezone(PARIS):%d/%m/%Y %H:%M} {r.actor} — {what}{change}{mail}")
    return lines
