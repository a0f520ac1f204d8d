"""Models of GPs, proposals and follow-ups (issue 5).

* :class:`GP` — a volunteer GP (médecin généraliste) with his criteria and limits;
  :class:`GPArea` the postal codes (optionally one commune of a postal code)
  he serves; :class:`GPEvent` the history of his settings (pause, capacity…).
* :class:`Proposal` — one entry proposed to one GP: its state, the
  explanation of why this entry was chosen, and, once accepted, the
  "devenu médecin traitant ?" follow-up.

An entry is proposed to one GP at a time: a partial unique index allows one
``pending`` proposal per entry.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base


class ProposalState(enum.StrEnum):
    """Where a proposal is: waiting for the GP's answer, or decided."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"      # no answer in time (after one reminder)
    CANCELLED = "cancelled"  # withdrawn: the entry was closed or resolved meanwhile


class FollowupState(enum.StrEnum):
    """The "devenu médecin traitant ?" question after a match."""

    ASKED = "asked"
    REMINDED = "reminded"
    PENDING = "pending"      # "not yet": asked again at ``followup_next_at``, no requeue
    BECAME_MT = "became_mt"
    NOT_MT = "not_mt"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"  # the entry left ``matched`` by another way


OPEN_FOLLOWUP_STATES = frozenset({FollowupState.ASKED, FollowupState.REMINDED})


class GP(Base):
    """A volunteer GP: identity, practice, criteria accepted and limits."""

    __tablename__ = "gp"

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    nom: Mapped[str] = mapped_column(String(200))
    prenom: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)  # MSSanté address
    cabinet: Mapped[str | None] = mapped_column(String(200))       # practice name
    adresse: Mapped[str | None] = mapped_column(Text)              # practice address
    telephone: Mapped[str | None] = mapped_column(String(20))      # practice phone, E.164
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    capacity_per_month: Mapped[int] = mapped_column(Integer, default=2)
    max_open_proposals: Mapped[int] = mapped_column(Integer, default=1)
    age_bands: Mapped[list[Any]] = mapped_column(JSON, default=list)  # keys of matching.criteria
    accepts_ald: Mapped[bool] = mapped_column(Boolean, default=True)
    accepts_complex: Mapped[bool] = mapped_column(Boolean, default=True)
    home_visits: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    accepting_changed_at: Mapped[dt.datetime]

    areas: Mapped[list[GPArea]] = relationship(
        back_populates="gp", order_by="GPArea.id", cascade="all, delete-orphan"
    )

    @property
    def display_name(self) -> str:
        """``Dr Paul Bernard`` (for mails and the CLI)."""
        return " ".join(x for x in ("Dr", self.prenom, self.nom) if x)


class GPArea(Base):
    """One place a GP serves: a whole postal code, or one commune of it."""

    __tablename__ = "gp_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    gp_id: Mapped[int] = mapped_column(ForeignKey("gp.id"), index=True)
    code_postal: Mapped[str] = mapped_column(String(5), index=True)
    commune: Mapped[str | None] = mapped_column(String(200))      # as written
    commune_key: Mapped[str | None] = mapped_column(String(200))  # folded, for comparison

    gp: Mapped[GP] = relationship(back_populates="areas")


class GPEvent(Base):
    """A GP's history: registration, changes, pauses, capacity, requests."""

    __tablename__ = "gp_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    gp_id: Mapped[int] = mapped_column(ForeignKey("gp.id"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Proposal(Base):
    """One entry proposed to one GP, why, what he answered, and the follow-up."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    gp_id: Mapped[int] = mapped_column(ForeignKey("gp.id"))
    kind: Mapped[str] = mapped_column(String(20))  # round | request | after_decline | forced
    state: Mapped[str] = mapped_column(String(20), default=ProposalState.PENDING)
    complex: Mapped[bool] = mapped_column(Boolean, default=False)  # for the mix rule
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    reminded_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    actor: Mapped[str] = mapped_column(String(200))
    followup_state: Mapped[str | None] = mapped_column(String(20))
    followup_asked_at: Mapped[dt.datetime | None]
    followup_reminded_at: Mapped[dt.datetime | None]
    followup_decided_at: Mapped[dt.datetime | None]
    followup_next_at: Mapped[dt.datetime | None]  # when a "pending" follow-up is asked again

    gp: Mapped[GP] = relationship()

    __table_args__ = (
        Index("ix_proposal_gp_state", "gp_id", "state"),
        Index("ix_proposal_gp_entry", "gp_id", "entry_id"),
        Index("ix_proposal_state_expires", "state", "expires_at"),
        Index("ix_proposal_followup", "followup_state", "decided_at"),
        Index("ux_proposal_entry_pending", "entry_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )
