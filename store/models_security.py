"""Models of sender authentication (issue 13): forged tokens seen, addresses set aside.

* :class:`ForgedToken` — one reply whose token was forged, replayed from another
  address or of the wrong kind (the code itself is not kept).
* :class:`BlockedSender` — an address quarantined after too many of them, until
  a coordinator lifts it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base


class ForgedToken(Base):
    """One bad token received from one address."""

    __tablename__ = "forged_token"
    __table_args__ = (Index("ix_forged_token_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[dt.datetime]
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))


class BlockedSender(Base):
    """An address whose mails are quarantined (``lifted_at`` set: no longer)."""

    __tablename__ = "blocked_sender"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    forged_count: Mapped[int] = mapped_column(Integer, default=0)
    blocked_at: Mapped[dt.datetime]
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(320))
