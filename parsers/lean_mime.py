"""Parse a raw mail with bounded memory, whatever its size (hostile input, issue 13).

``email.message_from_bytes`` decodes the whole mail to one string, then splits
it into lines: a 50 MB base64 attachment costs about ten times its size at
the peak. Here a big mail is fed to the parser in chunks, and long runs of
base64 lines (attachments) are first replaced by a short marker, then put
back as the part's payload in one piece: the same :class:`Message`, about
twice the mail's size at the peak.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from email.message import Message

LEAN_ABOVE = 4 * 1024 * 1024  # smaller mails take the plain parser
CHUNK = 1024 * 1024
RUN_LINES = 2000  # base64 lines in a row before a run is set aside during parsing
# Up to 1 000 base64 lines per match (a longer repetition would make ``re`` keep a
# backtracking stack as large as the attachment); adjacent matches are joined.
_B64_BLOCK = re.compile(rb"(?m)^(?:[A-Za-z0-9+/=]{40,100}\r?\n){1,1000}")
_MARK = "=?mailbot-elided-{n}?="


def _feed(raw: bytes) -> Message:
    parser = email.parser.BytesFeedParser(policy=email.policy.compat32)
    view = memoryview(raw)
    for start in range(0, len(raw), CHUNK):
        parser.feed(bytes(view[start:start + CHUNK]))
    return parser.close()


def _runs(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of each run of at least :data:`RUN_LINES` base64 lines."""
    runs: list[tuple[int, int, int]] = []  # start, end, lines
    for match in _B64_BLOCK.finditer(raw):
        lines = raw.count(b"\n", match.start(), match.end())
        if runs and runs[-1][1] == match.start():
            start, _end, count = runs[-1]
            runs[-1] = (start, match.end(), count + lines)
        else:
            runs.append((match.start(), match.end(), lines))
    return [(start, end) for start, end, count in runs if count >= RUN_LINES]


def parse_message(raw: bytes) -> Message:
    """The mail as a ``compat32`` :class:`Message`; never raises on bad input."""
    if len(raw) < LEAN_ABOVE:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    runs = _runs(raw)
    marks = [_MARK.format(n=n) for n in range(len(runs))]
    if not runs or any(mark.encode() in raw for mark in marks):
        return _feed(raw)
    pieces: list[bytes | memoryview] = []
    view, last = memoryview(raw), 0
    for (start, end), mark in zip(runs, marks, strict=True):
        pieces += [view[last:start], mark.encode() + b"\n"]
        last = end
    pieces.append(view[last:])
    msg = _feed(b"".join(pieces))
    todo = dict(zip(marks, runs, strict=True))
    for part in msg.walk():
        payload = part.get_payload()
        if not isinstance(payload, str) or "=?mailbot-elided-" not in payload:
            continue
        for mark in [m for m in todo if m in payload]:
            start, end = todo.pop(mark)
            run = str(view[start:end], "ascii")  # no intermediate copy of the bytes
            if payload.strip() == mark:
                payload = run
            else:
                payload = payload.replace(mark + "\n", run).replace(mark + "\r\n", run)
            del run
        part.set_payload(payload)
    if todo:  # a marker the parser did not keep in a payload (preamble…): parse plainly
        return _feed(raw)
    return msg
