"""The bot's clock: real time, or a fixed instant for ``jobs run --at`` and simulations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    """Tells the time; ``frozen`` makes it always answer the same instant."""

    def __init__(self, frozen: dt.datetime | None = None) -> None:
        if frozen is not None and frozen.tzinfo is None:
            frozen = frozen.replace(tzinfo=PARIS)
        self.frozen = frozen

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware (UTC)."""
        return (self.frozen or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)

    def today(self) -> dt.date:
        """Today's date in France (what people mean by "today")."""
        return self.now().astimezone(PARIS).date()


def local_date(moment: dt.datetime) -> dt.date:
    """The French calendar date of an instant."""
    return moment.astimezone(PARIS).date()


def fr_date(moment: dt.datetime | dt.date) -> str:
    """``jj/mm/aaaa`` in French local time."""
    if isinstance(moment, dt.datetime):
        moment = local_date(moment)
    return moment.strftime("%d/%m/%Y")
