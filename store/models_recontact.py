"""Models of monthly recontact, address failures and the call list (issue 6).

Keyed by ``entry_id`` and by address; the core models are not touched.

* :class:`RecontactRound` — one "are you still looking?" question to one
  address: the first mail, an optional reminder, and how it ended.
* :class:`AddressStatus` — what we know of one mail address (bounces), and
  :class:`AddressEvent` its history.
* :class:`CallItem` — an entry on the coordinators' call list, with the phone
  attempts recorded on it.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base


class RoundOutcome(enum.StrEnum):
    """How a recontact round ended (``None`` while it is open)."""

    YES = "yes"                # still looking: confirmed by the patient
    NO = "no"                  # found a doctor: entry resolved
    STOP = "stop"              # asked not to be written to: no more rounds (opt-out)
    UNCLEAR = "unclear"        # answered, but a coordinator must read it
    NO_ANSWER = "no_answer"    # nothing after the reminder
    BOUNCED = "bounced"        # the address failed
    CANCELLED = "cancelled"    # the entry left the asked statuses meanwhile


class AddressState(enum.StrEnum):
    """Whether mail to an address is believed to arrive."""

    OK = "ok"
    FAILING = "failing"


class CallReason(enum.StrEnum):
    """Why an entry is on the call list."""

    NO_EMAIL = "no_email"
    ADDRESS_FAILING = "address_failing"
    NO_ANSWER = "no_answer"


class CallOutcome(enum.StrEnum):
    """What a phone call (or a late mail answer) gave."""

    STILL_LOOKING = "still_looking"   # closes the item, confirms the entry
    FOUND = "found"                   # closes the item, resolves the entry
    UNREACHABLE = "unreachable"       # item stays open for another try
    WRONG_NUMBER = "wrong_number"     # item stays open; coordinators check the number
    ANSWERED_BY_MAIL = "answered_by_mail"  # the patient answered the mail meanwhile
    ENTRY_LEFT = "entry_left"         # the entry was closed/resolved/proposed meanwhile


class RecontactRound(Base):
    """One question sent to one patient address, its reminder and its outcome."""

    __tablename__ = "recontact_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the entry's first round
    address: Mapped[str] = mapped_column(String(320), index=True)
    opened_at: Mapped[dt.datetime]
    first_message_id: Mapped[str] = mapped_column(String(998), index=True)
    reminder_at: Mapped[dt.datetime | None]
    reminder_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    unanswered_streak: Mapped[int] = mapped_column(Integer, default=0)  # set when closed unanswered
    answered_at: Mapped[dt.datetime | None]
    answer_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    answer_reason: Mapped[str | None] = mapped_column(String(40))  # classifier's reason code
    answer_text: Mapped[str | None] = mapped_column(Text)          # new text of an unclear answer
    doctor_name: Mapped[str | None] = mapped_column(String(200))
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_replies: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_recontact_round_entry_opened", "entry_id", "opened_at"),)


class AddressStatus(Base):
    """Bounces seen for one address: permanent failures fail it at once, temporary ones add up."""

    __tablename__ = "address_status"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=AddressState.OK, index=True)
    permanent_failures: Mapped[int] = mapped_column(Integer, default=0)
    temporary_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[str | None] = mapped_column(String(20))  # DSN status code, e.g. 5.1.1
    first_failure_at: Mapped[dt.datetime | None]
    last_failure_at: Mapped[dt.datetime | None]
    failing_since: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]  # a mail from this address reached us
    updated_at: Mapped[dt.datetime]


class AddressEvent(Base):
    """One thing learnt about an address: a bounce (permanent/temporary), an answer, a reset."""

    __tablename__ = "address_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(20))  # permanent | temporary | success | reset
    status: Mapped[str | None] = mapped_column(String(20))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    outbox_message_id: Mapped[str | None] = mapped_column(String(998))


class CallItem(Base):
    """An entry the coordinators should phone, and what their calls gave."""

    __tablename__ = "call_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(String(200))  # e.g. "statut 5.1.1", never identity
    added_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_called_at: Mapped[dt.datetime | None]
    last_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    closed_by: Mapped[str | None] = mapped_column(String(200))
