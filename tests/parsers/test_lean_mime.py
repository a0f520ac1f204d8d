"""parsers.lean_mime: a big mail parses to the same parts as the stdlib parser, with bounded memory."""

from __future__ import annotations

import email
import email.policy
import tracemalloc

from benchmarks import hostile_mails
from parsers.lean_mime import LEAN_ABOVE, parse_message


def _parts(msg: email.message.Message) -> list[tuple[str, bytes | None]]:
    return [(p.get_content_type(), p.get_payload(decode=True)) for p in msg.walk()
            if not p.is_multipart()]


def test_big_attachment_parses_like_the_stdlib_with_a_fraction_of_its_memory() -> None:
    raw = hostile_mails.big_attachment(8 * 1024 * 1024)
    assert len(raw) > LEAN_ABOVE
    tracemalloc.start()
    try:
        lean = parse_message(raw)
        lean_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        plain = email.message_from_bytes(raw, policy=email.policy.compat32)
        plain_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _parts(lean) == _parts(plain)
    assert [k for k, _v in lean.items()] == [k for k, _v in plain.items()]
    assert lean_peak < 1.5 * len(raw) < plain_peak  # about the payload alone, vs several copies


def test_text_around_an_attachment_and_a_forged_marker_are_kept() -> None:
    raw = hostile_mails.big_attachment(6 * 1024 * 1024)
    forged = raw.replace(b"Bonjour", b"=?mailbot-elided-0?=", 1).replace(
        b"Nom : MARTIN", b"Nom : MARTIN =?mailbot-elided-0?=", 1)
    for mail in (raw, forged):
        assert _parts(parse_message(mail)) == _parts(
            email.message_from_bytes(mail, policy=email.policy.compat32))
