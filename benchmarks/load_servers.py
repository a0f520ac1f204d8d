"""The servers around the daemons of ``benchmarks/load.py``: the SMTP sink (records each
mail's Message-ID and arrival time, refuses with 4xx on demand) and the LMTP injector
that delivers inbound mails into Dovecot, as a real MTA does."""

from __future__ import annotations

import re
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.servers.dovecot import DovecotServer
from tests.servers.smtp import RecordingHandler

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)
_IN_REPLY_TO = re.compile(rb"^In-Reply-To:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)
REFUSAL = "451 4.3.0 Service momentanément indisponible, réessayez plus tard"


def header_value(pattern: re.Pattern[bytes], raw: bytes) -> str | None:
    """The first value of a header in the header block of ``raw``."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    match = pattern.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


@dataclass
class Arrival:
    """One mail accepted by the sink."""

    message_id: str | None
    in_reply_to: str | None
    at: float  # time.monotonic()


@dataclass
class SinkHandler(RecordingHandler):
    """Keeps only (Message-ID, In-Reply-To, time) of each mail; refuses while told to."""

    arrivals: list[Arrival] = field(default_factory=list)
    refused: int = 0
    refuse_until: float = 0.0  # time.monotonic(): MAIL FROM answers 451 until then

    def refuse_for(self, seconds: float) -> None:
        """Answer every transaction with a temporary failure for ``seconds``."""
        self.refuse_until = time.monotonic() + seconds

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if time.monotonic() < self.refuse_until:
            with self._lock:
                self.refused += 1
            return REFUSAL
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        arrival = Arrival(header_value(_MESSAGE_ID, raw), header_value(_IN_REPLY_TO, raw),
                          time.monotonic())
        with self._lock:
            self.arrivals.append(arrival)
        return "250 2.0.0 OK queued"

    def snapshot(self) -> list[Arrival]:
        """The arrivals so far (a copy)."""
        with self._lock:
            return list(self.arrivals)

    def by_message_id(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        return Counter(a.message_id or "<none>" for a in self.snapshot())


class Injector:
    """Delivers raw mails into Dovecot's INBOX over LMTP; records when each was accepted."""

    def __init__(self, dovecot: DovecotServer) -> None:
        assert dovecot.lmtp_port is not None, "Dovecot without LMTP"
        self.dovecot = dovecot
        self.delivered: dict[str, float] = {}  # Message-ID -> time.monotonic() of the 250
        self.failures = 0
        self._client: smtplib.LMTP | None = None

    def _connect(self) -> smtplib.LMTP:
        if self._client is None:
            self._client = smtplib.LMTP(self.dovecot.host, self.dovecot.lmtp_port or 0, timeout=30)
        return self._client

    def deliver(self, message_id: str, raw: bytes, sender: str) -> None:
        """Deliver one mail from envelope ``sender`` (one retry on a new connection)."""
        for attempt in (1, 2):
            try:
                self._connect().sendmail(sender, [self.dovecot.user], raw)
                self.delivered[message_id] = time.monotonic()
                return
            except (smtplib.SMTPException, OSError):
                self.close()
                if attempt == 2:
                    self.failures += 1

    def burst(self, mails: list[tuple[str, bytes, str]], connections: int = 3) -> None:
        """Deliver ``mails`` as fast as Dovecot takes them, over ``connections`` LMTP
        connections at once (one alone, at ≈ 15 ms a mail, would cap the daemons' rate)."""
        lanes = [Injector(self.dovecot) for _ in range(connections)]

        def run(lane: Injector, part: list[tuple[str, bytes, str]]) -> None:
            for message_id, raw, sender in part:
                lane.deliver(message_id, raw, sender)
            lane.close()

        threads = [threading.Thread(target=run, args=(lane, mails[i::connections]))
                   for i, lane in enumerate(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for lane in lanes:
            self.delivered.update(lane.delivered)
            self.failures += lane.failures

    def paced(self, mails: list[tuple[str, bytes, str]], per_second: float) -> float:
        """Deliver ``mails`` at ``per_second`` (by a schedule, not by sleeps after each);
        return the rate achieved."""
        start = time.monotonic()
        for index, (message_id, raw, sender) in enumerate(mails):
            delay = start + index / per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.deliver(message_id, raw, sender)
        elapsed = time.monotonic() - start
        return len(mails) / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        """Close the LMTP connection."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
