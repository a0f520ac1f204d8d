"""SQLAlchemy 2 models: the waitlist, the mail journal, the outbox and the audit trail.

The store knows nothing of mail transports: inbound messages are rows with
their raw bytes, outgoing mails are rows waiting in the outbox.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base


class InboundState(enum.StrEnum):
    """Where an inbound message is in its journey; all but RECEIVED are terminal."""

    RECEIVED = "received"
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"
    ESCALATED = "escalated"


TERMINAL_STATES = frozenset(s.value for s in InboundState if s is not InboundState.RECEIVED)


class EntryStatus(enum.StrEnum):
    """Life cycle of a waitlist entry (DESIGN.md)."""

    RECEIVED = "received"
    INCOMPLETE = "incomplete"
    WAITING = "waiting"
    PROPOSED = "proposed"
    MATCHED = "matched"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(
    {EntryStatus.RECEIVED, EntryStatus.INCOMPLETE, EntryStatus.WAITING, EntryStatus.PROPOSED,
     EntryStatus.MATCHED}
)


class OutboxState(enum.StrEnum):
    """Delivery state of an outgoing mail."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"      # permanent failure or too many attempts
    REFUSED = "refused"    # would have carried health data on a non-secure route


class InboundMessage(Base):
    """One mail as received: raw bytes first, then its terminal state."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    transport_key: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str | None] = mapped_column(String(320))
    received_at: Mapped[dt.datetime]
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), default=InboundState.RECEIVED, index=True)
    kind: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(200))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[dt.datetime | None]
    raw_destroyed_at: Mapped[dt.datetime | None]
    # How a reply was read (issue 15): the classifier's rule and the words it matched.
    decision_rule: Mapped[str | None] = mapped_column(String(60))
    decision_evidence: Mapped[str | None] = mapped_column(String(200))
    # The process that claimed the mail for processing (``store.workers``), and until when:
    # committed before the work, so that a process killed mid-work leaves its claim and
    # another takes the mail over once the lease has passed. Cleared with the terminal state.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None]


class Entry(Base):
    """A patient on the waitlist, with the canonical fields of the referral form."""

    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)  # registration date: FIFO rank
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    status_changed_at: Mapped[dt.datetime]
    referrer_email: Mapped[str | None] = mapped_column(String(320))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    source_message_id: Mapped[str | None] = mapped_column(String(998))
    source_inbound_id: Mapped[int | None] = mapped_column(Integer)
    identity_key: Mapped[str | None] = mapped_column(String(300), index=True)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)

    # Canonical fields (spec/referral-form.md).
    nom: Mapped[str | None] = mapped_column(String(200))
    nom_usage: Mapped[str | None] = mapped_column(String(200))
    prenom: Mapped[str | None] = mapped_column(String(200))
    date_naissance: Mapped[dt.date | None] = mapped_column(Date)
    sexe: Mapped[str | None] = mapped_column(String(1))
    ins: Mapped[str | None] = mapped_column(String(15), index=True)
    telephone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    adresse: Mapped[str | None] = mapped_column(Text)
    code_postal: Mapped[str | None] = mapped_column(String(5), index=True)
    commune: Mapped[str | None] = mapped_column(String(200))
    ald: Mapped[bool] = mapped_column(Boolean, default=False)
    css: Mapped[bool] = mapped_column(Boolean, default=False)
    ame: Mapped[bool] = mapped_column(Boolean, default=False)
    mobilite_reduite: Mapped[bool] = mapped_column(Boolean, default=False)
    situation_complexe: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    motif: Mapped[str | None] = mapped_column(Text)
    ancien_medecin: Mapped[str | None] = mapped_column(Text)
    aidant: Mapped[str | None] = mapped_column(Text)
    consentement: Mapped[bool | None] = mapped_column(Boolean)
    referent_nom: Mapped[str | None] = mapped_column(String(200))
    referent_structure: Mapped[str | None] = mapped_column(String(200))
    referent_telephone: Mapped[str | None] = mapped_column(String(20))

    # Outcome.
    priority: Mapped[bool] = mapped_column(Boolean, default=False)  # set by a coordinator
    confirmed_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(200))
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    recontact_opt_out_at: Mapped[dt.datetime | None]  # the patient asked not to be written to

    events: Mapped[list[EntryEvent]] = relationship(
        back_populates="entry", order_by="EntryEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_entry_status_received", "status", "received_at"),)


class EntryEvent(Base):
    """The entry's history: creation, merged information, completions, status changes."""

    __tablename__ = "entry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(30))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    entry: Mapped[Entry] = relationship(back_populates="events")

    # "Still looking" confirmations per month (mailbot stats) read a few percent of the
    # history: a partial index spares them a scan of every event (migration 0005).
    __table_args__ = (Index("ix_entry_event_confirmed_at", "at",
                            postgresql_where=text("kind = 'confirmed'"),
                            sqlite_where=text("kind = 'confirmed'")),)


class OutboxMessage(Base):
    """A mail to send; its Message-ID is fixed here, so a retry is never a new mail."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    created_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    recipient: Mapped[str | None] = mapped_column(String(320))  # the first one: loop guard look-ups
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    health_data: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime | None]
    # Set, and committed, just before a direct (SMTP) send; cleared with its outcome. Still
    # set on a pending row: the process died during the send, the server may have the mail.
    attempt_started_at: Mapped[dt.datetime | None]
    attempt_started_by: Mapped[str | None] = mapped_column(String(100))  # the worker sending it
    route: Mapped[str | None] = mapped_column(String(100))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))

    __table_args__ = (Index("ix_outbox_recipient_created", "recipient", "created_at"),)


class Token(Base):
    """A correlation token ``[CPTS-<kind>-<code>]``: random, bound, single-purpose, expiring."""

    __tablename__ = "token"
    __table_args__ = (Index("ix_token_kind_object", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(4))
    recipient: Mapped[str] = mapped_column(String(320))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    object_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    outbox_message_id: Mapped[str | None] = mapped_column(String(998), index=True)


class AuditRecord(Base):
    """Append-only, hash-chained trace of every state change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    inbound_message_id: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Alert(Base):
    """Something a coordinator must see: the source of the escalation digest.

    Escalated and quarantined inbound mails are read from ``inbound_message``
    directly; every other situation (declined proposal, not MT, call list,
    refused or failed delivery, urgent referral…) is an alert row. ``urgent``
    alerts are sent at once, not at the next digest.
    """

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    subject_ref: Mapped[str | None] = mapped_column(String(60))  # e.g. a GP's RPPS
    notified_at: Mapped[dt.datetime | None]  # when a digest or an urgent mail showed it
    resolved_at: Mapped[dt.datetime | None]


class JobRun(Base):
    """The last run of each scheduled job (``mailbot jobs list``)."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_at: Mapped[dt.datetime | None]
    last_clock: Mapped[dt.datetime | None]  # the instant the job acted as (``--at``)
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_summary: Mapped[str | None] = mapped_column(String(500))
    runs: Mapped[int] = mapped_column(Integer, default=0)


# Models of the other workflows live in their own modules; importing them here
# puts every table in ``Base.metadata`` (Alembic, tests).
from store import (  # noqa: E402, F401
    models_coordination,
    models_matching,
    models_recontact,
    models_security,
    models_workers,
)
