"""Capped exponential backoff with jitter, and the retry loop."""

from __future__ import annotations

import random

import pytest

from mailbot.errors import TransportPermanentError, TransportTemporaryError
from mailbot.transports.backoff import backoff_delay, reconnect_with_backoff


def test_delay_doubles_up_to_the_cap() -> None:
    delays = [backoff_delay(n, base=1, cap=30, jitter=0) for n in range(8)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff_delay(10_000, base=1, cap=30, jitter=0) == 30


def test_jitter_stays_in_range() -> None:
    assert backoff_delay(3, base=1, cap=100, jitter=0.5, draw=0.0) == 4
    assert backoff_delay(3, base=1, cap=100, jitter=0.5, draw=1.0) == 8
    with pytest.raises(ValueError):
        backoff_delay(-1)


async def test_retries_temporary_errors_then_succeeds() -> None:
    slept: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def connect() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise TransportTemporaryError("réseau")
        return "ok"

    result = await reconnect_with_backoff(connect, base=1, cap=3, jitter=0.5, sleep=sleep,
                                          rng=random.Random(1))
    assert result == "ok" and calls == 4
    assert len(slept) == 3
    assert 0.5 <= slept[0] <= 1 and 1 <= slept[1] <= 2 and 1.5 <= slept[2] <= 3


async def test_permanent_errors_are_not_retried() -> None:
    calls = 0

    async def connect() -> None:
        nonlocal calls
        calls += 1
        raise TransportPermanentError("mot de passe refusé")

    with pytest.raises(TransportPermanentError):
        await reconnect_with_backoff(connect, sleep=_no_sleep)
    assert calls == 1


async def test_gives_up_after_max_attempts() -> None:
    calls = 0

    async def connect() -> None:
        nonlocal calls
        calls += 1
        raise TransportTemporaryError("réseau")

    with pytest.raises(TransportTemporaryError):
        await reconnect_with_backoff(connect, max_attempts=3, sleep=_no_sleep)
    assert calls == 3


async def _no_sleep(seconds: float) -> None:
    return None
