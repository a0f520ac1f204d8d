"""Registering the rows: duplicates, idempotency, batches, history and audit.

A real run writes rows in transactions of ``batch_rows``; every row that
created (or was merged into) an entry is logged in ``import_row`` with its
file hash, sheet and row number, so running the same import again — or
resuming one interrupted — creates nothing twice. A dry run does exactly the
same work in one transaction and rolls it back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailbot.errors import UsageError
from mailbot.faults import checkpoint
from mailbot.importer.answers import columns_without_x
from mailbot.importer.columns import Header, find_header
from mailbot.importer.rows import RowContext, RowPlan, day_of, problem_words, read_row, text_of
from mailbot.importer.sheets import read_sheets
from mailbot.importer.statuses import REASON_WORDS, Status, read_status
from mailbot.workflows import problems as problem_list
from store import appends, audit, entries
from store.db import Database
from store.models import OPEN_STATUSES, Entry, EntryEvent, EntryStatus
from store.models_coordination import ImportBatch, ImportRow

log = logging.getLogger(__name__)

OUTCOMES = ("created", "incomplete", "duplicate", "already", "rejected", "skipped")
Progress = Callable[[int, int], None]


@dataclass
class RowResult:
    """What happened (or, in a dry run, would happen) to one row."""

    sheet: str
    row: int
    outcome: str                 # one of OUTCOMES
    status: str | None = None    # entry status created
    ref: str | None = None       # entry created, merged into or imported before
    detail: str = ""             # problems, reason of a rejection, duplicate of what
    notes: list[str] = field(default_factory=list)
    no_received_date: bool = False  # registration date cell empty: ranked at the import's date


@dataclass
class SheetInfo:
    """How a sheet was understood."""

    name: str
    header_row: int | None
    columns: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    status: str | None = None  # status said by the sheet's name, for rows without one


@dataclass
class ImportReport:
    """The whole import, row by row."""

    file: str
    sha256: str
    dry_run: bool
    sheets: list[SheetInfo] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    batch_id: int | None = None

    def counts(self) -> dict[str, int]:
        """How many rows per outcome."""
        out = dict.fromkeys(OUTCOMES, 0)
        for row in self.rows:
            out[row.outcome] += 1
        return out


@dataclass(frozen=True)
class ImportOptions:
    """What ``mailbot import`` was asked."""

    sheets: list[str] | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)   # --map
    statuses: Mapping[str, Status] = field(default_factory=dict)  # --status
    assume_consent: bool = False
    dry_run: bool = False
    batch_rows: int = 500
    actor: str = "cli:import"
    territory: tuple[str, ...] = ()  # [intake] postal codes and prefixes: communes looked up there


def plan_file(path: Path, options: ImportOptions, *, now: dt.datetime,
              tz: ZoneInfo) -> tuple[list[SheetInfo], list[RowPlan]]:
    """Read every sheet and plan every row (no database)."""
    infos: list[SheetInfo] = []
    plans: list[RowPlan] = []
    for sheet in read_sheets(path, only=options.sheets):
        header: Header | None = find_header(sheet.rows, options.overrides)
        if header is None:
            infos.append(SheetInfo(sheet.name, None))
            continue
        # A workbook's sheet named "Attribués" or "En attente" says the status of its rows;
        # a CSV file's name does not ("patients_sortis_2024.csv" is not a status).
        said = None if sheet.from_csv else read_status(sheet.name)
        infos.append(SheetInfo(sheet.name, header.row, header.recognised(), header.unknown,
                               said.status.value if said else None))
        ctx = RowContext(today=now.astimezone(tz).date(), tz=tz,
                         assume_consent=options.assume_consent, epoch_1904=sheet.epoch_1904,
                         statuses=options.statuses, sheet_status=said,
                         no_x=columns_without_x(header.keys, sheet.rows[header.row:]),
                         territory=options.territory)
        for number, cells in sheet.numbered():
            if number > header.row:
                plans.append(read_row(sheet.name[:100], number, cells, header, ctx))
    if not any(info.header_row for info in infos):
        raise UsageError(f"{path.name} : aucune ligne d'en-tête reconnue (il faut au moins une "
                         "colonne Nom ou INS et une autre colonne connue) ; nommez les colonnes "
                         "avec --map \"Colonne=clé\"")
    return infos, plans


class _Importer:
    """Applies planned rows to the database, in the caller's transactions."""

    def __init__(self, report: ImportReport, batch_id: int, options: ImportOptions,
                 now: dt.datetime) -> None:
        self.report, self.batch_id, self.options, self.now = report, batch_id, options, now
        self.done_rows: dict[tuple[str, int], str] = {}
        self.done_prints: dict[str, str] = {}       # fingerprints of earlier imports → ref
        self.run_prints: dict[str, RowPlan] = {}    # fingerprints of this run → first row
        self.run_open: dict[str, RowPlan] = {}      # INS / identity key of open entries it made
        self.created_rows: dict[int, RowPlan] = {}  # entry id → row that created it (this run)
        # INS and identity keys of the open entries: only a row matching one of them needs
        # entries.find_open_duplicate (the exact rule), which spares two queries per new patient.
        self.open_ins: set[str] = set()
        self.open_keys: set[str] = set()
        # Rows to create, written together by :meth:`flush` (one chunk of rows at a time).
        self.pending: list[tuple[RowPlan, RowResult, entries.NewEntry]] = []
        self.pending_rows: list[tuple[RowPlan, dict[str, Any]]] = []  # import_row values
        self.keys: dict[int, str | None] = {}  # id(plan) → identity key (plans live all run)

    def load(self, session: Session) -> _Importer:
        """Remember the rows imported before (this file's rows, every file's patients)."""
        query = select(ImportRow.file_sha256, ImportRow.sheet, ImportRow.row_number,
                       ImportRow.fingerprint, Entry.ref).join(Entry, Entry.id == ImportRow.entry_id)
        for sha, sheet, number, fingerprint, ref in session.execute(query):
            if sha == self.report.sha256:
                self.done_rows[(sheet, number)] = ref
            self.done_prints.setdefault(fingerprint, ref)
        open_rows = select(Entry.ins, Entry.identity_key).where(Entry.status.in_(OPEN_STATUSES))
        for ins, key in session.execute(open_rows):
            if ins:
                self.open_ins.add(ins)
            if key:
                self.open_keys.add(key)
        return self

    def _maybe_open(self, plan: RowPlan) -> bool:
        ins = plan.fields.get("ins")
        key = self._key(plan)
        return bool((ins and ins in self.open_ins) or (key and key in self.open_keys))

    def _key(self, plan: RowPlan) -> str | None:
        """The row's identity key (name, first name, birth date), computed once per row."""
        found = self.keys.get(id(plan), "")
        if found == "":
            found = entries.identity_key(text_of(plan.fields.get("nom")),
                                         text_of(plan.fields.get("prenom")),
                                         day_of(plan.fields.get("date_naissance")))
            self.keys[id(plan)] = found
        return found

    def _identities(self, plan: RowPlan) -> list[str]:
        ins = plan.fields.get("ins")
        key = self._key(plan)
        return [f"ins:{ins}" if ins else "", f"key:{key}" if key else ""]

    def _open_twin(self, plan: RowPlan) -> RowPlan | None:
        """An open entry this run created for the same patient (needed in a dry run, whose
        earlier batches were rolled back)."""
        for identity in self._identities(plan):
            if identity and identity in self.run_open:
                return self.run_open[identity]
        return None

    def _remember(self, entry: Entry, plan: RowPlan | None = None) -> None:
        if entry.status in OPEN_STATUSES:
            if entry.ins:
                self.open_ins.add(entry.ins)
            if entry.identity_key:
                self.open_keys.add(entry.identity_key)
            if plan is not None:
                for identity in self._identities(plan):
                    if identity:
                        self.run_open.setdefault(identity, plan)

    def apply(self, session: Session, plan: RowPlan) -> RowResult:
        """Register one row; return what happened."""
        result = RowResult(plan.sheet, plan.number, plan.outcome, detail=plan.why,
                           notes=list(plan.notes), no_received_date=plan.no_received_date)
        if plan.outcome != "entry":
            return result
        fingerprint = plan.fingerprint()
        before = self.done_rows.get((plan.sheet, plan.number)) or self.done_prints.get(fingerprint)
        if before is not None:
            result.outcome, result.ref, result.notes = "already", before, []
            result.no_received_date = False
            result.detail = "déjà importée lors d'un import précédent"
            return result
        existing = None
        if self._maybe_open(plan):  # rare: the database (with the rows still pending) decides
            self.flush(session)
            existing = entries.find_open_duplicate(session, plan.fields)
        twin = self.run_prints.get(fingerprint) or (self._open_twin(plan) if existing is None
                                                    else None)
        if twin is not None and twin.entry_id is None and existing is None:
            self.flush(session)  # the twin is still pending: its entry id is needed below
        source: RowPlan | None = None  # the row whose entry this row's import_row points to
        entry_id: int | None = None
        if existing is not None:
            entry_id = self._merge(session, plan, existing, result)
        elif twin is not None:  # the same patient and date twice in the file, already closed
            entry_id = twin.entry_id
            result.outcome, result.ref = "duplicate", twin.ref
            result.detail = f"même patient que la ligne {twin.number}"
        else:
            self._create(plan, result)
            source = plan
        if not self.options.dry_run:  # a trial remembers its rows in memory only
            self.pending_rows.append((source or plan, {
                "batch_id": self.batch_id, "file_sha256": self.report.sha256,
                "sheet": plan.sheet, "row_number": plan.number, "fingerprint": fingerprint,
                "outcome": result.outcome, "entry_id": entry_id}))
        self.done_rows[(plan.sheet, plan.number)] = result.ref or ""
        if fingerprint not in self.run_prints:
            if source is None:
                plan.entry_id, plan.ref = entry_id, result.ref
            self.run_prints[fingerprint] = plan
        return result

    def _create(self, plan: RowPlan, result: RowResult) -> None:
        """Queue the row's new entry; :meth:`flush` writes it and fills in its reference."""
        open_status = plan.status in (EntryStatus.WAITING, EntryStatus.INCOMPLETE)
        stored = [problem_list.problem_dict(p) for p in plan.problems] if (
            plan.status is EntryStatus.INCOMPLETE) else []
        new = entries.NewEntry(
            fields=plan.fields, status=plan.status if open_status else EntryStatus.WAITING,
            problems=stored, received_at=plan.received_at or self.now,
            referrer_email=plan.referrer_email, referrer_name=text_of(plan.fields.get("referent_nom")),
            final_status=None if open_status else plan.status,
            final_at=None if open_status else plan.resolved_at or self.now,
            final_reason=None if open_status else plan.reason,
            # unknown exit date: not counted in durations
            keep_resolved_at=plan.resolved_at is not None,
            extra_events=[("imported", {"batch": self.batch_id, "sheet": plan.sheet,
                                        "row": plan.number, "file_sha256": self.report.sha256})])
        self.pending.append((plan, result, new))
        if open_status:
            for identity in self._identities(plan):
                if identity:
                    self.run_open.setdefault(identity, plan)
            ins, key = plan.fields.get("ins"), self._key(plan)
            if isinstance(ins, str) and ins:
                self.open_ins.add(ins)
            if key:
                self.open_keys.add(key)
        result.outcome = "incomplete" if plan.status is EntryStatus.INCOMPLETE else "created"
        result.status = plan.status.value
        if stored:
            result.detail = "à compléter : " + ", ".join(dict.fromkeys(
                problem_words(p) for p in plan.problems))

    def flush(self, session: Session) -> None:
        """Write the queued entries and import rows (one chunk) in the caller's transaction."""
        if self.pending:
            entries.create_many(session, [new for _, _, new in self.pending], now=self.now,
                                actor=self.options.actor, load=False)
            for plan, result, new in self.pending:
                assert new.id is not None and new.ref is not None
                plan.entry_id, plan.ref = new.id, new.ref
                result.ref = new.ref
                self.done_rows[(plan.sheet, plan.number)] = new.ref
                self.created_rows[new.id] = plan
            self.pending = []
        if self.pending_rows:
            rows = [{**values, "entry_id": values["entry_id"] or source.entry_id}
                    for source, values in self.pending_rows]
            session.connection().execute(insert(ImportRow), rows)
            self.pending_rows = []

    def _merge(self, session: Session, plan: RowPlan, existing: Entry, result: RowResult) -> int:
        entries.merge_fields(session, existing, plan.fields, now=self.now, kind="merged",
                             actor=self.options.actor)
        self._remember(existing)
        if existing.status == EntryStatus.INCOMPLETE:
            existing.problems = problem_list.recompute(entries.entry_fields(existing),
                                                       existing.problems, ())
            if not existing.problems:
                entries.set_status(session, existing, EntryStatus.WAITING, now=self.now,
                                   reason="complété par l'import", actor=self.options.actor)
        if plan.received_at is not None and plan.received_at < existing.received_at:
            # Registered earlier on the spreadsheet than by mail: the patient keeps that rank.
            old = existing.received_at
            existing.received_at = plan.received_at
            session.add(EntryEvent(entry_id=existing.id, at=self.now, kind="rank", detail={
                "from": old.isoformat(), "to": plan.received_at.isoformat(), "source": "import"}))
            audit.record(session, actor=self.options.actor, action="entry.rank",
                         object_type="entry", object_id=existing.ref,
                         before={"received_at": old.isoformat()},
                         after={"received_at": plan.received_at.isoformat()}, at=self.now)
            result.notes.append("date d'inscription plus ancienne reprise : rang conservé")
        first = self.created_rows.get(existing.id)
        result.outcome, result.ref = "duplicate", existing.ref
        result.detail = (f"même patient que la ligne {first.number}" if first is not None
                         else f"patient déjà inscrit ({existing.ref})")
        if plan.status not in (EntryStatus.WAITING, EntryStatus.INCOMPLETE):
            said = REASON_WORDS.get(plan.reason or "", plan.reason)
            result.notes.append(f"la feuille le dit sorti de la liste ({said}) : "
                                "à clôturer par un coordinateur si c'est le cas")
        return existing.id


def run_import(db: Database, path: Path, options: ImportOptions, *, now: dt.datetime,
               tz: ZoneInfo, progress: Progress | None = None) -> ImportReport:
    """Import ``path`` (or, with ``options.dry_run``, say what importing it would do)."""
    raw = path.read_bytes()
    report = ImportReport(file=path.name, sha256=hashlib.sha256(raw).hexdigest(),
                          dry_run=options.dry_run)
    report.sheets, plans = plan_file(path, options, now=now, tz=tz)
    total = len(plans)
    if options.dry_run:
        # Batch by batch, each rolled back: a long trial never holds the audit chain's lock
        # (which the daemon needs to register referrals) for more than one batch.
        with db.sessions() as session:
            importer = _Importer(report, 0, options, now).load(session)
        for start in range(0, total, options.batch_rows):
            session = db.sessions()
            transaction = session.begin()
            appends.enable(session)
            try:
                for plan in plans[start:start + options.batch_rows]:
                    report.rows.append(importer.apply(session, plan))
                    if progress:
                        progress(len(report.rows), total)
                importer.flush(session)
            finally:
                transaction.rollback()
                session.close()
        return report
    with db.transaction() as session:
        report.batch_id = _new_batch(session, report, options, now).id
    assert report.batch_id is not None
    with db.sessions() as session:
        importer = _Importer(report, report.batch_id, options, now).load(session)
    done = 0
    for start in range(0, total, options.batch_rows):
        with db.transaction() as session:
            appends.enable(session)  # audit rows and history: one executemany per chunk
            for plan in plans[start:start + options.batch_rows]:
                report.rows.append(importer.apply(session, plan))
                done += 1
                if progress:
                    progress(done, total)
            importer.flush(session)
        checkpoint("import_after_batch")  # MAILBOT_CRASH_AT (tests): die between two batches
    counts = report.counts()
    with db.transaction() as session:
        batch_row = session.get(ImportBatch, report.batch_id)
        assert batch_row is not None
        batch_row.finished_at = dt.datetime.now(dt.UTC)
        batch_row.counts = counts
        audit.record(session, actor=options.actor, action="import.run", object_type="import",
                     object_id=report.batch_id, after={"sha256": report.sha256, "rows": total,
                                                       **counts}, at=now)
    log.info("import %s: %d rows, %s", report.batch_id, total,
             ", ".join(f"{k} {v}" for k, v in counts.items()))
    return report


def _new_batch(session: Session, report: ImportReport, options: ImportOptions,
               now: dt.datetime) -> ImportBatch:
    batch = ImportBatch(started_at=now, file_name=report.file[:255], file_sha256=report.sha256,
                        actor=options.actor, counts={})
    session.add(batch)
    session.flush()
    return batch
