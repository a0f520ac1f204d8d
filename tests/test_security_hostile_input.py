"""Hostile input: each mail ends in a recorded terminal state, its bytes kept, in bounded memory.

Each case is measured with :mod:`tracemalloc` (peak of Python allocations during the
pass, a bound that does not depend on the machine's load); the pass must also leave the
bot able to take a normal referral. Times are not asserted here (machines are noisy):
``benchmarks/hostile.py`` measures them.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from benchmarks import hostile_mails
from mailbot.transports.maildir import QUARANTINE
from store.models import TERMINAL_STATES, Entry, InboundMessage
from tests.helpers import Bot

MB = 1024 * 1024
# Peak MB of Python allocations: the bound each case states.
BOUNDS = {
    "piece_jointe_50_mo": 900, "mime_500_niveaux": 100, "entete_2_mo": 150,
    "charsets_inconnus": 50, "formulaire_10000_lignes": 150, "mail_vide": 50,
    "entetes_seuls": 50, "nul_et_utf8_invalide": 50, "nul_expediteur_connu": 50,
}


def _pass(bot: Bot, raw: bytes) -> tuple[InboundMessage, float]:
    bot.drop(raw)
    tracemalloc.start()
    try:
        report = bot.run_once()
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert report.fetched == 1
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert row is not None
        session.expunge(row)
    return row, peak


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
    row, peak = _pass(bot, raw)
    max_mb = BOUNDS[case]
    assert row.state in TERMINAL_STATES, (case, row.state, row.reason)
    _kept(bot, row, raw)
    assert peak < max_mb, f"{case}: {peak:.0f} Mo"
    # The bot still works after it.
    after, _peak = _pass(bot, hostile_mails.normal())
    assert after.state == "processed" and after.kind == "referral"
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry.id)).first() is not None


def test_a_50_mb_attachment_under_a_raised_limit_is_read_whole(tmp_path: Path,
                                                               database_section: dict[str, str]) -> None:
    """With ``max_size_mb = 100`` the mail is parsed, not set aside: the form is still read."""
    bot = Bot.create(tmp_path, database_section, {"inbound": {"max_size_mb": 100}})
    try:
        raw = hostile_mails.big_attachment()
        row, peak = _pass(bot, raw)
        assert row.state == "processed" and row.kind == "referral", (row.state, row.reason)
        _kept(bot, row, raw)
        assert peak < 1200, f"{peak:.0f} Mo"  # the bytes in memory a few times over: bounded
    finally:
        bot.close()
