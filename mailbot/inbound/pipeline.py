"""The message's journey: fetch → store → classify and act → set aside → send.

Raw bytes are committed before anything else; a mail is set aside on the
server only after its processing is committed. On PostgreSQL another process
may process a mail this one stored (``SKIP LOCKED``): it is then "unsettled",
left out of the next fetches, and set aside here once its state, committed by
the other process, is terminal (:meth:`Pipeline.settle`). A failure while processing
rolls the transaction back and is counted; after three failures the mail is
escalated rather than retried for ever. Nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.errors import MailbotError
from mailbot.faults import checkpoint
from mailbot.inbound.dispatch import parse_raw, process_row
from mailbot.inbound.mailbox import lock_key, mailbox_name
from mailbot.jobs.urgent import notify_urgent_safely
from mailbot.outbound.delivery import OutboxWorker
from mailbot.transports.base import FetchedMail, InboundTransport, OversizedMail, set_aside_all
from mailbot.workflows.prefetch import prefetch_replies
from parsers.addresses import address_of
from store import appends, audit, inbound
from store.alerts import raise_alert
from store.models import InboundMessage, InboundState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BATCH = 100  # mails per transaction
PARSE_BEFORE_STORE = 1_000_000  # bytes: smaller mails are parsed once, before their commit
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


@dataclass
class PassReport:
    """What one pass did, for the CLI and the tests."""

    fetched: int = 0
    states: Counter[str] = field(default_factory=Counter)
    delivery: Counter[str] = field(default_factory=Counter)

    def merge(self, other: PassReport) -> None:
        """Add another pass's counts to this one."""
        self.fetched += other.fetched
        self.states.update(other.states)
        self.delivery.update(other.delivery)


def _envelope(raw: bytes) -> tuple[str | None, str | None]:
    """Message-ID and sender address read from the headers; ``None`` when unreadable."""
    try:
        return _envelope_of(_HEADERS.parsebytes(raw))
    except Exception:  # unreadable headers: keep the bytes, decide later
        return None, None


def _head_of(raw: bytes) -> bytes:
    """The header block of a raw mail (all of it when there is no blank line)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[:min(ends) + 2] if ends else raw


def _envelope_of(msg: email.message.Message) -> tuple[str | None, str | None]:
    """:func:`_envelope` of a parsed mail."""
    try:
        return _storable(_message_id(msg)), _storable(address_of(str(msg.get("From", ""))))
    except Exception:  # unreadable headers: keep the bytes, decide later
        return None, None


def _storable(text: str | None) -> str | None:
    """A header value a text column takes: no NUL (PostgreSQL refuses it), valid UTF-8."""
    if text is None:
        return None
    clean = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return clean or None


def _message_id(headers: email.message.Message) -> str | None:
    value = headers.get("Message-ID")
    if not value:
        return None
    text = str(value).strip()
    if text.startswith("<") and ">" in text:
        text = text[1:text.index(">")]
    return text.strip()[:990] or None


class Pipeline:
    """Runs the inbound journey and the outbox for one application context."""

    def __init__(self, app: App, inbound_transport: InboundTransport) -> None:
        self.app = app
        self.inbound = inbound_transport
        self.outbox = OutboxWorker(app)
        self.attempted: set[int] = set()  # inbound ids processed during the current pass
        self.parsed: dict[int, email.message.Message] = {}  # stored this pass, not processed yet
        self.leased: dict[int, dt.datetime] = {}  # mails this worker claimed → lease end
        self.unsettled: dict[str, int] = {}  # transport key → inbound id, processed elsewhere
        self._store_key = lock_key("inbound-store", app.db.schema, mailbox_name(app.config.inbound))

    def store(self, mails: list[FetchedMail]) -> list[inbound.Stored]:
        """Commit the raw bytes of fetched mails in one transaction (first thing, always).

        Each mail is parsed once here; the parsed mails to process are kept for
        :meth:`process` in this pass (a retry parses the stored bytes again).
        """
        # A small mail is parsed once, before the commit, and its envelope read from the
        # parse; a big one after the commit (its copies in the driver are gone by then),
        # its envelope from its header block alone.
        early = {index: parse_raw(mail.raw) for index, mail in enumerate(mails)
                 if len(mail.raw) < PARSE_BEFORE_STORE}
        incoming = [inbound.Incoming(mail.key, mail.raw,
                                     *(_envelope_of(early[index]) if index in early
                                       else _envelope(_head_of(mail.raw))))
                    for index, mail in enumerate(mails)]
        now = self.app.clock.now()
        until = now + self.app.lease
        with self.app.db.transaction() as session:  # stored claimed: no statement more
            inbound.serialize_stores(session, self._store_key)
            stored = inbound.store_many(session, incoming, now, claim=(self.app.worker, until))
        self.leased.update({one.inbound_id: until for one in stored
                            if one.state is InboundState.RECEIVED and not one.already_stored})
        self.parsed.update({one.inbound_id: early[index] if index in early else parse_raw(mail.raw)
                            for index, (one, mail) in enumerate(zip(stored, mails, strict=True))
                            if one.state is InboundState.RECEIVED and not one.already_stored})
        return stored

    def process(self, inbound_ids: list[int]) -> dict[int, InboundState]:
        """Classify and act on stored mails in one transaction; return each mail's state.

        The batch is first run straight through. If any mail fails, that
        transaction is rolled back whole and the batch is run again with a
        savepoint per mail, so the failing mail is rolled back alone and
        counted (escalated after ``MAX_ATTEMPTS``). If the transaction cannot
        be committed at all, every mail stays ``received`` for the next pass.
        """
        self.attempted.update(inbound_ids)
        parsed = {i: self.parsed.pop(i) for i in inbound_ids if i in self.parsed}
        try:
            inbound_ids = self.claim(inbound_ids)
        except Exception as error:
            log.critical("batch of %d mails not claimed (%s); retried next pass",
                         len(inbound_ids), type(error).__name__)
            return {}
        if not inbound_ids:
            return {}
        try:
            states = self._process_batch(inbound_ids, isolate=False, parsed=parsed)
        except Exception:
            try:
                states = self._process_batch(inbound_ids, isolate=True)
            except Exception as error:
                log.critical("batch of %d mails not committed (%s); retried next pass",
                             len(inbound_ids), type(error).__name__)
                return {}
        checkpoint("after_commit")
        for ident, state in states.items():
            if state is not InboundState.RECEIVED:  # finished: its claim went with it
                self.leased.pop(ident, None)
        return states

    def claim(self, inbound_ids: list[int]) -> list[int]:
        """The mails of ``inbound_ids`` this worker holds a lease on, claiming (one committed
        statement) those it does not hold with at least half a lease left; mails another
        live worker holds are left out."""
        now = self.app.clock.now()
        margin = now + self.app.lease / 2
        needed = [i for i in inbound_ids if self.leased.get(i, now) <= margin]
        if needed:
            until = now + self.app.lease
            with self.app.db.transaction() as session:
                got = inbound.claim(session, needed, self.app.worker, now, self.app.lease)
            for ident in needed:
                if ident in got:
                    self.leased[ident] = until
                else:
                    self.leased.pop(ident, None)
        return [i for i in inbound_ids if self.leased.get(i, now) > now]

    def _process_batch(self, inbound_ids: list[int], *, isolate: bool,
                       parsed: dict[int, email.message.Message] | None = None,
                       ) -> dict[int, InboundState]:
        states: dict[int, InboundState] = {}
        with self.app.db.transaction() as session:
            if not isolate:  # a failure rolls everything back: append-only rows can wait
                appends.enable(session)
                finished: list[inbound.Finished] = []
                rows = inbound.load_for_processing(session, inbound_ids, self.app.worker)
                prefetch_replies(self.app, session, (parsed or {}).values())
                for row in rows:
                    states[row.id] = self._process_one(session, row, finished,
                                                       (parsed or {}).get(row.id))
                inbound.finish_many(session, finished)
                return states
            for row in inbound.load_for_processing(session, inbound_ids, self.app.worker):
                try:
                    with session.begin_nested():
                        states[row.id] = self._process_one(session, row)
                except Exception as error:  # one bad mail must not stop the others
                    level = logging.ERROR if isinstance(error, MailbotError) else logging.CRITICAL
                    log.log(level, "inbound %s: processing failed (%s)", row.id,
                            type(error).__name__)
                    states[row.id] = self._count_failure(session, row, type(error).__name__)
        return states

    def _process_one(self, session: Session, row: InboundMessage,
                     finished: list[inbound.Finished] | None = None,
                     msg: email.message.Message | None = None) -> InboundState:
        """Process one mail (``msg``: its bytes already parsed); its terminal state is written
        now, or added to ``finished`` to be written with the batch's."""
        outcome = process_row(self.app, session, row, msg)
        now = self.app.clock.now()
        if finished is None:
            inbound.finish(session, row, outcome.state, kind=outcome.kind or "unknown",
                           reason=outcome.reason, now=now, entry_id=outcome.entry_id)
        else:
            finished.append(inbound.Finished(row, outcome.state, outcome.kind or "unknown",
                                             outcome.reason, now, outcome.entry_id))
        audit.record(session, actor="system", action="inbound.finish", object_type="inbound",
                     object_id=row.id, after={"state": str(outcome.state), "kind": outcome.kind},
                     inbound_message_id=row.id, at=now)
        log.info("inbound %s → %s (%s)", row.id, outcome.state, outcome.kind)
        return outcome.state

    def _count_failure(self, session: Session, row: InboundMessage, error_name: str) -> InboundState:
        row.attempts = (row.attempts or 0) + 1
        if row.attempts < MAX_ATTEMPTS:
            return InboundState.RECEIVED
        now = self.app.clock.now()
        inbound.finish(session, row, InboundState.ESCALATED, kind="processing_error",
                       reason=f"erreur interne répétée ({error_name})", now=now)
        audit.record(session, actor="system", action="inbound.finish", object_type="inbound",
                     object_id=row.id, after={"state": "escalated", "kind": "processing_error"},
                     inbound_message_id=row.id, at=now)
        return InboundState.ESCALATED

    async def ingest(self, limit: int | None = None) -> PassReport:
        """Fetch, store, process and set aside pending mails (at most ``limit``), by batches."""
        report = PassReport()
        mails = await self.inbound.fetch(limit, self.unsettled)
        for start in range(0, len(mails), BATCH):
            batch = mails[start:start + BATCH]
            report.fetched += len(batch)
            oversized = [mail for mail in batch if isinstance(mail, OversizedMail)]
            if oversized:  # header only: stored and quarantined at once, never processed
                for big, state in zip(oversized, self._store_oversized(oversized), strict=True):
                    report.states[str(state)] += 1
                    await self.inbound.set_aside(big.key, quarantine=state is InboundState.QUARANTINED)
                batch = [mail for mail in batch if not isinstance(mail, OversizedMail)]
                if not batch:
                    continue
            stored = self.store(batch)
            checkpoint("after_store")
            todo = [s.inbound_id for s in stored if s.state is InboundState.RECEIVED]
            processed = self.process(todo) if todo else {}
            aside: dict[bool, list[str]] = {False: [], True: []}  # quarantine? → keys
            for mail, one in zip(batch, stored, strict=True):
                state = processed.get(one.inbound_id, one.state)
                if state is InboundState.RECEIVED:
                    if one.inbound_id not in processed:  # another process holds it: settle()
                        self.unsettled[mail.key] = one.inbound_id
                    continue  # failed this time: stays on the server and in the database
                report.states[str(state)] += 1
                aside[state is InboundState.QUARANTINED].append(mail.key)
            for quarantine, keys in aside.items():  # the whole batch is committed: set aside
                await set_aside_all(self.inbound, keys, quarantine=quarantine)
        return report

    async def settle(self) -> int:
        """Set aside the unsettled mails now in a terminal state; return how many.

        Those nobody holds any more (the other process died, or the batch was not
        committed) are processed here first.
        """
        if not self.unsettled:
            return 0
        ids = sorted(set(self.unsettled.values()))
        states = self.process(ids)  # SKIP LOCKED: what another process holds is left out
        with self.app.db.sessions() as session:
            states.update(inbound.states_of(session, [i for i in ids if i not in states]))
        aside: dict[bool, list[str]] = {False: [], True: []}  # quarantine? → keys
        for key, ident in self.unsettled.items():
            state = states.get(ident, InboundState.RECEIVED)
            if state is not InboundState.RECEIVED:
                aside[state is InboundState.QUARANTINED].append(key)
        for quarantine, keys in aside.items():
            await set_aside_all(self.inbound, keys, quarantine=quarantine)
            for key in keys:
                del self.unsettled[key]
        return len(aside[False]) + len(aside[True])

    def _store_oversized(self, mails: list[OversizedMail]) -> list[InboundState]:
        """Store the header of each too-big mail, marked, and quarantine it in the same
        transaction, with an alert for the coordinators; return each mail's state."""
        limit_mb = self.app.config.inbound.max_size_mb
        incoming = []
        for mail in mails:
            marked = (f"X-Mailbot-Truncated: header only; original size {mail.size} bytes, "
                      f"limit {limit_mb:g} MB\r\n").encode() + mail.raw
            incoming.append(inbound.Incoming(mail.key, marked, *_envelope(mail.raw)))
        states: list[InboundState] = []
        with self.app.db.transaction() as session:
            inbound.serialize_stores(session, self._store_key)
            now = self.app.clock.now()
            for mail, one in zip(mails, inbound.store_many(session, incoming, now), strict=True):
                if one.state is not InboundState.RECEIVED:  # seen before, or a duplicate
                    states.append(one.state)
                    continue
                row = session.get(InboundMessage, one.inbound_id)
                assert row is not None
                row.size = mail.size
                reason = (f"message trop volumineux ({mail.size / 1_000_000:.1f} Mo, limite "
                          f"{limit_mb:g} Mo) : seul l'en-tête est conservé, le message entier "
                          "est dans le dossier de quarantaine")
                inbound.finish(session, row, InboundState.QUARANTINED, kind="too_big",
                               reason=reason, now=now)
                audit.record(session, actor="system", action="inbound.finish",
                             object_type="inbound", object_id=row.id,
                             after={"state": "quarantined", "kind": "too_big"},
                             inbound_message_id=row.id, at=now)
                raise_alert(session, kind="mail_too_big", reason=reason, now=now,
                            inbound_message_id=row.id)
                log.warning("inbound %s → quarantined (too_big, %d bytes)", row.id, mail.size)
                states.append(InboundState.QUARANTINED)
        return states

    def process_leftovers(self, limit: int = 1000) -> Counter[str]:
        """Process stored mails still ``received`` (a crash, or a failure last time)."""
        with self.app.db.sessions() as session:
            ids = [i for i in inbound.pending_ids(session, limit) if i not in self.attempted]
        counts: Counter[str] = Counter()
        for start in range(0, len(ids), BATCH):
            counts.update(str(state) for state in self.process(ids[start:start + BATCH]).values())
        return counts

    async def run_once(self, *, batch: int = 500, fetch: bool = True) -> PassReport:
        """Everything pending: inbound until empty, leftovers, then the outbox.

        Each mail is attempted at most once per pass: leftovers (stored but
        still ``received`` after a crash or a failure) come after the inbox,
        skipping what the inbox pass just tried. ``fetch=False``: the mailbox
        is left alone (another process reads it), only stored mails are processed.
        """
        report = PassReport()
        self.attempted.clear()
        if not fetch:
            report.states.update(self.process_leftovers())
            return await self._deliver(report)
        await self.inbound.open()
        try:
            while True:
                one = await self.ingest(batch)
                report.merge(one)
                if one.fetched < batch or sum(one.states.values()) == 0:
                    break
            report.states.update(self.process_leftovers())
            await self.settle()  # what another process finished meanwhile; else the next fetch
        finally:
            await self.inbound.close()
        return await self._deliver(report)

    async def _deliver(self, report: PassReport) -> PassReport:
        """Send everything due, urgent alerts included, into ``report``."""
        report.delivery.update(await self.outbox.deliver_due(limit=100_000))
        if notify_urgent_safely(self.app):  # urgent alerts of this pass (issue 7), sent now
            report.delivery.update(await self.outbox.deliver_due(limit=100_000))
        return report
