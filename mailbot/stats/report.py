"""The whole statistics report: every figure, in the stable shape of ``docs/stats.md``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from mailbot.stats import figures, partners
from mailbot.stats.cubes import Scope, run_queries
from mailbot.stats.figures import Cubes
from mailbot.stats.masking import mask, merge_small_communes
from mailbot.stats.period import Period, make_period
from mailbot.stats.sql import Dialect
from store.models import Entry

log = logging.getLogger(__name__)

FORMAT = "mailbot-stats/1"
# Figures only coordinators see: never in a public report.
COORDINATORS_ONLY = ("gps",)


def earliest_registration(session: Session, tz: ZoneInfo) -> dt.date | None:
    """The local date of the first registration on record."""
    first = session.execute(select(func.min(Entry.received_at))).scalar_one_or_none()
    if first is None:
        return None
    if isinstance(first, str):  # pragma: no cover - SQLite without type processing
        first = dt.datetime.fromisoformat(first).replace(tzinfo=dt.UTC)
    elif first.tzinfo is None:
        first = first.replace(tzinfo=dt.UTC)
    return first.astimezone(tz).date()


def period_for(session: Session, first: str | None, last: str | None, *, now: dt.datetime,
               tz: ZoneInfo) -> Period:
    """The period of ``--from``/``--to``, defaulting to first registration → today."""
    earliest = earliest_registration(session, tz) if first is None else None
    return make_period(first, last, today=now.astimezone(tz).date(), earliest=earliest, tz=tz)


def build_report(session: Session, period: Period, *, now: dt.datetime, public: bool,
                 mask_below: int, cpts: str, parallel: int = 6) -> dict[str, Any]:
    """Compute every figure for ``period`` (snapshot figures at ``now``).

    On PostgreSQL the grouped queries run concurrently on ``parallel``
    connections of the session's engine (:mod:`mailbot.stats.cubes`); SQLite, an
    embedded single-file database, runs them one after the other. A ``public`` report leaves
    out coordinator-only figures and masks small counts
    (:mod:`mailbot.stats.masking`).
    """
    started = time.perf_counter()
    scope = Scope(dialect=Dialect.of(session), period=period, now=now)
    bind = session.get_bind()
    assert isinstance(bind, Engine | Connection)
    c = Cubes.of(period, run_queries(bind, scope,
                                     parallel=parallel if scope.dialect.is_postgres else 1))
    body: dict[str, Any] = {
        "requests": {
            "total": figures.requests_total(c),
            "by_month": figures.requests_by_month(c),
            "by_referrer_type": figures.requests_by_referrer_type(c),
            "by_criteria": figures.requests_by_criteria(c),
            "by_age_band": figures.requests_by_age_band(c),
            "by_priority_group": figures.requests_by_priority_group(c),
            "by_commune": figures.requests_by_commune(c),
            "by_status": figures.requests_by_status(c),
        },
        "resolutions": figures.resolutions(c),
        "time_to_resolution": figures.time_to_resolution(c),
        "found_mt": figures.found_mt(c),
        "snapshot": {
            "entries_by_status": figures.entries_by_status(c),
            "still_waiting": figures.still_waiting(c),
            "call_list": partners.call_list(session),
            "open_alerts": figures.open_alerts(session),
        },
        "confirmations": partners.confirmations(c),
        "mail": {"inbound_by_state": figures.inbound_by_state(session, period)},
        "gps": partners.gp_proposals(session, period),
    }
    unavailable = partners.unavailable()
    if public:
        for key in COORDINATORS_ONLY:
            body.pop(key, None)
        body["requests"]["by_commune"] = merge_small_communes(body["requests"]["by_commune"],
                                                              mask_below)
        body = mask(body, mask_below)
    report = {
        "format": FORMAT,
        "cpts": cpts,
        "generated_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "period": {**period.as_json(), "months": period.months()},
        "public": public,
        "mask_below": mask_below if public else None,
        "unavailable": [u for u in unavailable
                        if not (public and u.split(".")[0] in COORDINATORS_ONLY)],
        **body,
    }
    log.info("stats computed in %.2f s (%d registrations, public=%s)",
             time.perf_counter() - started, _total(report), public)
    return report


def _total(report: dict[str, Any]) -> int:
    """The number of registrations in the report (0 when masked), for the log line."""
    total = report["requests"]["total"]
    return int(total) if isinstance(total, int) else 0
