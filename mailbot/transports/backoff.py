"""Reconnecting after network faults: capped exponential backoff with jitter.

:func:`backoff_delay` is a pure function (the random draw is a parameter) so the
schedule can be tested exactly; :func:`reconnect_with_backoff` retries an async
``connect`` callable on :class:`~mailbot.errors.TransportTemporaryError` and lets
every other error (refused login, bad certificate) through at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mailbot.errors import TransportTemporaryError

log = logging.getLogger(__name__)

T = TypeVar("T")


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 300.0, jitter: float = 0.5,
                  draw: float = 1.0) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    The nominal delay is ``min(cap, base * 2**attempt)``; ``jitter`` (0–1) is the
    share of it that is random: the result lies in ``[(1 - jitter) * d, d]``, and
    ``draw`` (0–1, normally ``random.random()``) picks the point in that range.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    if not 0.0 <= jitter <= 1.0 or not 0.0 <= draw <= 1.0:
        raise ValueError("jitter and draw must lie in [0, 1]")
    nominal = cap if attempt >= 64 else min(cap, base * (2.0 ** attempt))
    return nominal * (1.0 - jitter + jitter * draw)


async def reconnect_with_backoff(
    connect: Callable[[], Awaitable[T]],
    *,
    base: float = 1.0,
    cap: float = 300.0,
    jitter: float = 0.5,
    max_attempts: int | None = None,
    retry_on: tuple[type[BaseException], ...] = (TransportTemporaryError,),
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
    what: str = "connexion",
) -> T:
    """Call ``connect`` until it succeeds, sleeping :func:`backoff_delay` between tries.

    Only exceptions in ``retry_on`` are retried; after ``max_attempts`` calls
    (``None``: forever) the last one is raised. Each retry is logged with the
    error class and the delay, never with the error text (it may hold addresses).
    """
    draw = (rng or random.Random()).random
    attempt = 0
    while True:
        try:
            return await connect()
        except retry_on as error:
            attempt += 1
            if max_attempts is not None and attempt >= max_attempts:
                log.error("%s : abandon après %d tentative(s) (%s)", what, attempt,
                          type(error).__name__)
                raise
            delay = backoff_delay(attempt - 1, base=base, cap=cap, jitter=jitter, draw=draw())
            log.warning("%s : échec n°%d (%s), nouvel essai dans %.1f s", what, attempt,
                        type(error).__name__, delay)
            await sleep(delay)
