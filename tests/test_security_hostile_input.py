"""Hostile input: each mail ends in a recorded terminal state, its bytes kept, in bounded time and memory.

Bounds are generous (a loaded 2-core machine): each case is measured with
:mod:`tracemalloc` (peak of Python allocations during the pass) and a wall
clock; the pass must also leave the bot able to take a normal referral.
"""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks import hostile_mails
from mailbot.transports.maildir import QUARANTINE
from store.models import TERMINAL_STATES, Entry, InboundMessage
from tests.helpers import Bot

MB = 1024 * 1024
# (case, seconds, peak MB of Python allocations): the bound each test states.
BOUNDS = {
    "piece_jointe_50_mo": (120, 900), "mime_500_niveaux": (60, 100), "entete_2_mo": (60, 150),
    "charsets_inconnus": (30, 50), "formulaire_10000_lignes": (60, 150), "mail_vide": (30, 50),
    "entetes_seuls": (30, 50), "nul_et_utf8_invalide": (30, 50), "nul_expediteur_connu": (30, 50),
}


def _pass(bot: Bot, raw: bytes) -> tuple[InboundMessage, float, float]:
    bot.drop(raw)
    tracemalloc.start()
    start = time.monotonic()
    try:
        report = bot.run_once()
        seconds = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert report.fetched == 1
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert row is not None
        session.expunge(row)
    return row, seconds, peak


def _kept(bot: Bot, row: InboundMessage, raw: bytes) -> None:
    """Nothing lost: the bytes are in the database, or (too big) in the quarantine folder."""
    assert row.size == len(raw)
    if row.kind == "too_big":
        assert row.state == "quarantined" and row.raw is not None
        assert row.raw.startswith(b"X-Mailbot-Truncated: header only")
        [kept] = (bot.inbox / QUARANTINE / "cur").iterdir()
        assert hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(raw).digest()
    else:
        assert row.sha256 == hashlib.sha256(raw).hexdigest() and row.raw == raw


@pytest.mark.parametrize("case", sorted(hostile_mails.CASES))
def test_hostile_mail_ends_in_a_terminal_state_within_bounds(bot: Bot, case: str) -> None:
    raw = hostile_mails.CASES[case]()
    row, seconds, peak = _pass(bot, raw)
    max_seconds, max_mb = BOUNDS[case]
    assert row.state in TERMINAL_STATES, (case, row.state, row.reason)
    _kept(bot, row, raw)
    assert seconds < max_seconds, f"{case}: {seconds:.1f} s"
    assert peak < max_mb, f"{case}: {peak:.0f} Mo"
    # The bot still works after it.
    after, _s, _p = _pass(bot, hostile_mails.normal())
    assert after.state == "processed" and after.kind == "referral"
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry.id)).first() is not None


def test_a_50_mb_attachment_under_a_raised_limit_is_read_whole(tmp_path: Path,
                                                               database_section: dict[str, str]) -> None:
    """With ``max_size_mb = 100`` the mail is parsed, not set aside: the form is still read."""
    bot = Bot.create(tmp_path, database_section, {"inbound": {"max_size_mb": 100}})
    try:
        raw = hostile_mails.big_attachment()
        row, seconds, peak = _pass(bot, raw)
        assert row.state == "processed" and row.kind == "referral", (row.state, row.reason)
        _kept(bot, row, raw)
        assert seconds < 180, f"{seconds:.1f} s"
        assert peak < 1200, f"{peak:.0f} Mo"  # the bytes in memory a few times over: bounded
    finally:
        bot.close()
