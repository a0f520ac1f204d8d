"""The monthly recontact round: ask, remind, give up, and hand over to the call list.

:func:`run_round` is what the ``recontact`` job does, in small transactions:

1. *tidy*: rounds of entries that left the asked statuses are cancelled;
   call-list items of entries no longer open are closed; a question whose
   delivery failed for good marks its address failing;
2. *close*: rounds unanswered ``close_after_days`` after their last mail are
   closed; after ``unanswered_rounds_before_call`` such rounds in a row the
   entry goes on the call list;
3. inside the sending window only: *remind* open rounds, then *ask* entries
   due (``interval_days`` after registration, last question or last
   confirmation) — or put them on the call list when they have no e-mail or a
   failing one. At most ``max_mails_per_run`` mails per run.

Mails go to the patient's personal address with no health data, as
``auto-generated`` mails carrying a ``[CPTS-R-…]`` token bound to the entry
and address. Logs carry counts only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVarTuple

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import PARIS, fr_date
from mailbot.outbound.mailer import enqueue_mail
from store import addresses, calls, recontact
from store.addresses import Failure
from store.models import OPEN_STATUSES, Entry, EntryEvent, OutboxMessage, OutboxState
from store.models_recontact import (
    CallItem,
    CallOutcome,
    CallReason,
    RecontactRound,
    RoundOutcome,
)

log = logging.getLogger(__name__)

ACTOR = "job:recontact"
BATCH = 200  # entries per transaction
_Row = TypeVarTuple("_Row")


@dataclass
class RoundReport:
    """What one run did (counts only)."""

    asked: int = 0
    reminded: int = 0
    unanswered: int = 0
    cancelled: int = 0
    bounced: int = 0
    called: Counter[str] = field(default_factory=Counter)
    left_for_later: int = 0
    outside_window: bool = False
    disabled: bool = False

    def summary(self) -> str:
        """One French line for ``jobs list`` and the logs."""
        if self.disabled:
            return "recontact désactivé ([recontact] enabled = false)"
        parts = [f"{self.asked} question(s)", f"{self.reminded} relance(s)",
                 f"{self.unanswered} tour(s) sans réponse",
                 f"{sum(self.called.values())} ajout(s) à la liste d'appels"]
        if self.bounced:
            parts.append(f"{self.bounced} adresse(s) en échec")
        if self.cancelled:
            parts.append(f"{self.cancelled} tour(s) annulé(s)")
        if self.left_for_later:
            parts.append(f"{self.left_for_later} reporté(s) au prochain passage")
        if self.outside_window:
            parts.append("hors fenêtre d'envoi : aucun message envoyé")
        return ", ".join(parts)


def in_window(app: App, now: dt.datetime) -> bool:
    """True when ``now`` (Paris time) is inside the configured sending days and hours."""
    cfg = app.config.recontact
    local = now.astimezone(PARIS)
    if local.isoweekday() not in cfg.send_weekdays:
        return False
    return cfg.send_from <= local.strftime("%H:%M") < cfg.send_until


def _add_to_calls(session: Session, entry: Entry, reason: CallReason, now: dt.datetime,
                  report: RoundReport, detail: str | None = None) -> None:
    _item, created = calls.add(session, entry, reason, now=now, detail=detail, actor=ACTOR)
    if created:
        report.called[str(reason)] += 1


def _next_step(app: App, streak_before: int, reminder: bool) -> str:
    """What the mail announces: another mail (``reminder``/``next_round``) or a phone call."""
    cfg = app.config.recontact
    if not reminder and cfg.reminder_after_days > 0:
        return "reminder"
    return "call" if streak_before + 1 >= cfg.unanswered_rounds_before_call else "next_round"


def _deadline(app: App, now: dt.datetime, reminder: bool) -> str:
    cfg = app.config.recontact
    days = cfg.close_after_days + (0 if reminder or cfg.reminder_after_days == 0
                                   else cfg.reminder_after_days)
    return fr_date(now + dt.timedelta(days=days))


def _send(app: App, session: Session, entry: Entry, address: str, now: dt.datetime, *,
          reminder: bool, streak_before: int) -> int:
    """Enqueue the question (or its reminder); return its outbox id."""
    cfg = app.config.recontact
    outbox_id = enqueue_mail(
        app, session, kind="recontact_reminder" if reminder else "recontact", to=address,
        template="recontact", now=now, health_data=False, token_kind="R",
        token_ttl_days=cfg.token_ttl_days, entry_id=entry.id, auto_submitted="auto-generated",
        context={"entry": entry, "registered": fr_date(entry.received_at), "reminder": reminder,
                 "next_step": _next_step(app, streak_before, reminder),
                 "deadline": _deadline(app, now, reminder)},
    )
    assert outbox_id is not None  # auto-generated mails are never capped
    return outbox_id


def _message_ids(session: Session, outbox_ids: list[int]) -> dict[int, str]:
    """Message-IDs of mails just enqueued (one query for a whole batch)."""
    if not outbox_ids:
        return {}
    rows = session.execute(select(OutboxMessage.id, OutboxMessage.message_id)
                           .where(OutboxMessage.id.in_(outbox_ids)))
    return {int(outbox_id): message_id for outbox_id, message_id in rows}


def _history(entry_id: int, now: dt.datetime, kind: str, outbox_id: int) -> EntryEvent:
    return EntryEvent(entry_id=entry_id, at=now, kind=kind, detail={"outbox_id": outbox_id})


def _streak_before(entry: Entry, latest: RecontactRound | None) -> int:
    """Unanswered rounds in a row before a new one (a confirmation since resets it)."""
    if latest is None or latest.outcome != RoundOutcome.NO_ANSWER:
        return 0
    if entry.confirmed_at is not None and entry.confirmed_at >= latest.opened_at:
        return 0
    return latest.unanswered_streak or 0


def _locked(app: App, query: Select[*_Row]) -> Select[*_Row]:
    """``FOR UPDATE`` on PostgreSQL: an answer being processed and the job never both close a round."""
    return query.with_for_update() if app.db.is_postgres else query


def tidy(app: App, now: dt.datetime, report: RoundReport) -> None:
    """Cancel rounds of entries no longer asked, close stale call items, learn failed deliveries."""
    cfg = app.config.recontact
    with app.db.transaction() as session:
        gone = (select(RecontactRound).join(Entry, Entry.id == RecontactRound.entry_id)
                .where(RecontactRound.closed_at.is_(None), Entry.status.not_in(cfg.statuses)))
        for rnd in session.scalars(_locked(app, gone)):
            recontact.close_round(rnd, RoundOutcome.CANCELLED, now=now)
            report.cancelled += 1
        failed = (select(RecontactRound, Entry, OutboxMessage.message_id)
                  .join(Entry, Entry.id == RecontactRound.entry_id)
                  .join(OutboxMessage, or_(OutboxMessage.message_id == RecontactRound.first_message_id,
                                           OutboxMessage.message_id == RecontactRound.reminder_message_id))
                  .where(RecontactRound.closed_at.is_(None),
                         OutboxMessage.state.in_((OutboxState.FAILED, OutboxState.REFUSED))))
        for rnd, entry, message_id in session.execute(_locked(app, failed)):
            if rnd.closed_at is not None:
                continue  # both of its mails failed: handled once
            # Refused for good by the servers we hand mail to: the address fails.
            addresses.record_failure(session, Failure(rnd.address, True, None), now=now,
                                     temporary_threshold=cfg.temporary_failures_before_failing,
                                     entry_id=entry.id, outbox_message_id=message_id, actor=ACTOR)
            recontact.close_round(rnd, RoundOutcome.BOUNCED, now=now)
            report.bounced += 1
            _add_to_calls(session, entry, CallReason.ADDRESS_FAILING, now, report,
                          detail="envoi refusé par le serveur")
        stale = (select(CallItem).join(Entry, Entry.id == CallItem.entry_id)
                 .where(CallItem.closed_at.is_(None), Entry.status.not_in(OPEN_STATUSES)))
        for item in session.scalars(stale):
            calls.close(session, item, CallOutcome.ENTRY_LEFT, now=now, by=ACTOR)


def close_unanswered(app: App, now: dt.datetime, report: RoundReport) -> None:
    """Close rounds whose last mail is ``close_after_days`` old; call after N in a row."""
    cfg = app.config.recontact
    limit = now - dt.timedelta(days=cfg.close_after_days)
    last_mail = RecontactRound.reminder_at if cfg.reminder_after_days > 0 else RecontactRound.opened_at
    with app.db.transaction() as session:
        query = (select(RecontactRound, Entry).join(Entry, Entry.id == RecontactRound.entry_id)
                 .where(RecontactRound.closed_at.is_(None), last_mail <= limit)
                 .order_by(RecontactRound.id))
        for rnd, entry in session.execute(_locked(app, query)):
            streak = recontact.previous_streak(session, entry.id, rnd.id, entry.confirmed_at) + 1
            recontact.close_round(rnd, RoundOutcome.NO_ANSWER, now=now, streak=streak)
            session.add(EntryEvent(entry_id=entry.id, at=now, kind="recontact_unanswered",
                                   detail={"round": rnd.number, "streak": streak}))
            report.unanswered += 1
            if streak >= cfg.unanswered_rounds_before_call:
                detail = f"{streak} tour(s) sans réponse"
                if rnd.auto_replies:
                    detail += ", réponse automatique d'absence reçue"
                _add_to_calls(session, entry, CallReason.NO_ANSWER, now, report, detail=detail)


def send_reminders(app: App, now: dt.datetime, budget: int, report: RoundReport) -> int:
    """Remind open rounds ``reminder_after_days`` old; return the mails sent."""
    cfg = app.config.recontact
    if cfg.reminder_after_days == 0 or budget <= 0:
        return 0
    due_before = now - dt.timedelta(days=cfg.reminder_after_days)
    with app.db.transaction() as session:
        failing = addresses.failing_set(session)
        query = (select(RecontactRound, Entry).join(Entry, Entry.id == RecontactRound.entry_id)
                 .where(RecontactRound.closed_at.is_(None), RecontactRound.reminder_at.is_(None),
                        RecontactRound.opened_at <= due_before)
                 .order_by(RecontactRound.id).limit(budget))
        sent: list[tuple[RecontactRound, int]] = []
        for rnd, entry in session.execute(_locked(app, query)).all():
            if rnd.address in failing:
                continue  # tidy() of the next run closes it
            streak = recontact.previous_streak(session, entry.id, rnd.id, entry.confirmed_at)
            sent.append((rnd, _send(app, session, entry, rnd.address, now, reminder=True,
                                    streak_before=streak)))
        ids = _message_ids(session, [outbox_id for _rnd, outbox_id in sent])
        for rnd, outbox_id in sent:
            rnd.reminder_message_id = ids[outbox_id]
            rnd.reminder_at = now
            session.add(_history(rnd.entry_id, now, "recontact_reminder", outbox_id))
    report.reminded += len(sent)
    return len(sent)


def due_entry_ids(app: App, now: dt.datetime) -> list[int]:
    """Entries to ask now, longest without contact first."""
    cfg = app.config.recontact
    interval = dt.timedelta(days=cfg.interval_days)
    with app.db.sessions() as session:
        rows = session.execute(select(Entry.id, Entry.received_at, Entry.confirmed_at)
                               .where(Entry.status.in_(cfg.statuses),
                                      Entry.recontact_opt_out_at.is_(None))).all()
        asked = recontact.last_asked(session)
        busy = recontact.entries_with_open_round(session) | calls.entries_on_list(session)
    due: list[tuple[dt.datetime, int]] = []
    for entry_id, received_at, confirmed_at in rows:
        if entry_id in busy:
            continue
        last = max(x for x in (received_at, confirmed_at, asked.get(entry_id, (0, None))[1]) if x)
        if last + interval <= now:
            due.append((last, entry_id))
    due.sort()
    return [entry_id for _last, entry_id in due]


def ask_due(app: App, now: dt.datetime, budget: int, report: RoundReport) -> None:
    """Open a round for each due entry (or put it on the call list), within ``budget`` mails."""
    cfg = app.config.recontact
    ids = due_entry_ids(app, now)
    position = 0
    while position < len(ids):
        if budget <= 0:
            report.left_for_later += len(ids) - position
            return
        batch, position = ids[position:position + BATCH], position + BATCH
        with app.db.transaction() as session:
            failing = addresses.failing_set(session)
            query = select(Entry).where(Entry.id.in_(batch), Entry.status.in_(cfg.statuses),
                                        Entry.recontact_opt_out_at.is_(None))
            latest = {r.entry_id: r for r in session.scalars(
                select(RecontactRound).where(RecontactRound.entry_id.in_(batch))
                .order_by(RecontactRound.id))}
            asked: list[tuple[int, str, int, int]] = []
            for entry in session.scalars(_locked(app, query)).all():
                address = (entry.email or "").strip().lower()
                if not address:
                    _add_to_calls(session, entry, CallReason.NO_EMAIL, now, report)
                    continue
                if address in failing:
                    _add_to_calls(session, entry, CallReason.ADDRESS_FAILING, now, report,
                                  detail="adresse en échec lors d'un envoi précédent")
                    continue
                if budget <= 0:
                    report.left_for_later += 1
                    continue
                previous = latest.get(entry.id)
                outbox_id = _send(app, session, entry, address, now, reminder=False,
                                  streak_before=_streak_before(entry, previous))
                asked.append((entry.id, address, (previous.number if previous else 0) + 1,
                              outbox_id))
                budget -= 1
            message_ids = _message_ids(session, [outbox_id for *_rest, outbox_id in asked])
            for entry_id, address, number, outbox_id in asked:
                recontact.start_round(session, entry_id=entry_id, address=address,
                                      message_id=message_ids[outbox_id], now=now, number=number)
                session.add(_history(entry_id, now, "recontact_sent", outbox_id))
            report.asked += len(asked)


def run_round(app: App, now: dt.datetime, *, limit: int | None = None) -> RoundReport:
    """Everything the ``recontact`` job does at ``now``; ``limit`` overrides ``max_mails_per_run``."""
    report = RoundReport()
    if not app.config.recontact.enabled:
        report.disabled = True
        return report
    tidy(app, now, report)
    close_unanswered(app, now, report)
    if not in_window(app, now):
        report.outside_window = True
    else:
        budget = limit if limit is not None else app.config.recontact.max_mails_per_run
        budget -= send_reminders(app, now, budget, report)
        ask_due(app, now, budget, report)
    log.info("recontact: %d asked, %d reminded, %d unanswered, %d to call", report.asked,
             report.reminded, report.unanswered, sum(report.called.values()))
    return report
