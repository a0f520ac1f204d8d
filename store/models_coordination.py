"""Models of digests, coordinator commands, statistics and imports (issue 7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base

# ---------------------------------------------------------------- import of existing waitlists
# (issue 7, ``mailbot import``; migration block in versions/0004_coordination.py)


class ImportBatch(Base):
    """One real run of ``mailbot import`` (dry runs leave no trace)."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    file_name: Mapped[str] = mapped_column(String(255))  # base name only
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ImportRow(Base):
    """A spreadsheet row that produced an entry (or was merged into one): makes imports idempotent.

    ``fingerprint`` (patient identity + registration date, hashed) also
    recognises a row already imported from another version of the file.
    """

    __tablename__ = "import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    sheet: Mapped[str] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"), index=True)

    __table_args__ = (UniqueConstraint("file_sha256", "sheet", "row_number",
                                       name="uq_import_row_file_sheet_row"),)


# ---------------------------------------------------------------- escalation digest
# (issue 7, digests and urgent alerts; migration block in versions/0004_coordination.py)


class DigestRun(Base):
    """One digest or urgent mail sent to the coordinators (what was shown, to whom)."""

    __tablename__ = "digest_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)  # the clock of the run (``jobs run --at``)
    kind: Mapped[str] = mapped_column(String(20))        # digest | urgent
    items: Mapped[int] = mapped_column(Integer, default=0)
    new_items: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[list[Any]] = mapped_column(default=list)


class InboundNotice(Base):
    """An escalated or quarantined mail that a digest or urgent mail showed the coordinators."""

    __tablename__ = "inbound_notice"

    inbound_message_id: Mapped[int] = mapped_column(ForeignKey("inbound_message.id"),
                                                    primary_key=True)
    notified_at: Mapped[dt.datetime] = mapped_column(index=True)
    digest_run_id: Mapped[int | None] = mapped_column(ForeignKey("digest_run.id"))
