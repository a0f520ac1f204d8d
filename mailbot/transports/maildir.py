"""Maildir transports: the embedded default (demo, tests, small sites).

Inbound reads ``new/`` and, only once the message is committed to the
database, moves it to ``cur/`` (or to the ``.Quarantine`` sub-folder).
Outbound writes one file per mail into ``new/``; the file name is derived from
the Message-ID, so delivering the same mail twice leaves one file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mailbot.errors import TransportTemporaryError
from mailbot.transports.base import DeliveryReport, FetchedMail, OversizedMail

QUARANTINE = ".Quarantine"
# The first Message-ID header of a mail's header block, with its continuation lines.
_MESSAGE_ID = re.compile(rb"^message-id[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def ensure_maildir(path: Path) -> None:
    """Create ``path`` with its ``cur/``, ``new/`` and ``tmp/`` folders."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


def is_maildir(path: Path) -> bool:
    """True when ``path`` has the three Maildir folders."""
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def read_header(path: Path, limit: int = 1_000_000) -> bytes:
    """The header of the message in ``path`` (up to and including the blank line), at most
    ``limit`` bytes: what is kept of a message too big to be read whole."""
    data = b""
    with open(path, "rb") as handle:
        while len(data) < limit and (chunk := handle.read(65536)):
            data += chunk
            ends = [(at, len(end)) for end in (b"\r\n\r\n", b"\n\n") if (at := data.find(end)) >= 0]
            if ends:
                at, length = min(ends)
                return data[:at + length]
    return data[:limit]


class MaildirInbound:
    """Reads mail from a Maildir's ``new/`` folder."""

    def __init__(self, path: Path, *, poll_seconds: float = 5.0, max_size: int | None = None) -> None:
        """``max_size`` (bytes): a bigger file is returned as :class:`OversizedMail`, header only."""
        self.path = path
        self.poll_seconds = poll_seconds
        self.max_size = max_size

    async def open(self) -> None:
        """Create the folders if needed."""
        try:
            ensure_maildir(self.path)
        except OSError as error:
            raise TransportTemporaryError(f"dossier Maildir inutilisable ({error.strerror})") from None

    async def close(self) -> None:
        """Nothing to release."""

    def pending_names(self) -> list[str]:
        """File names waiting in ``new/``, oldest first."""
        new = self.path / "new"
        try:
            entries = [e for e in os.scandir(new) if e.is_file() and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        entries.sort(key=lambda e: (e.stat().st_mtime, e.name))
        return [e.name for e in entries]

    async def fetch(self, limit: int | None = None,
                    skip: Collection[str] = ()) -> list[FetchedMail]:
        """Read pending messages (at most ``limit``), but those named in ``skip``."""
        names = [name for name in self.pending_names() if name not in skip]
        if limit is not None:
            names = names[:limit]
        mails: list[FetchedMail] = []
        for name in names:
            path = self.path / "new" / name
            try:
                if self.max_size is not None and (size := path.stat().st_size) > self.max_size:
                    mails.append(OversizedMail(key=name, raw=read_header(path), size=size))
                    continue
                raw = path.read_bytes()
            except FileNotFoundError:  # taken by another instance meanwhile
                continue
            mails.append(FetchedMail(key=name, raw=raw))
        return mails

    async def set_aside(self, key: str, *, quarantine: bool = False) -> None:
        """Move the message out of ``new/`` (to ``cur/`` or the quarantine folder)."""
        source = self.path / "new" / key
        if quarantine:
            target_dir = self.path / QUARANTINE
            ensure_maildir(target_dir)
            target = target_dir / "cur" / f"{key}:2,"
        else:
            target = self.path / "cur" / f"{key}:2,S"
        try:
            os.replace(source, target)
        except FileNotFoundError:
            return  # already set aside (a previous run died after the move)

    async def wait_for_mail(self, timeout: float) -> None:
        """Poll: return as soon as ``new/`` has something, or after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.pending_names():
                return
            await asyncio.sleep(min(self.poll_seconds, max(0.0, deadline - loop.time()), 0.5))


class MaildirOutbound:
    """Writes each outgoing mail as one file in a Maildir's ``new/``.

    Creating a file costs the disk a round trip (about 0.7 ms on the project's
    machine) but hardly any CPU, so the files are written by a few threads while
    the worker goes on; :meth:`flush` waits for them, raises
    :class:`~mailbot.errors.TransportTemporaryError` if one could not be written,
    and makes them durable. The delivery worker records nothing as sent before
    that flush: a failed write leaves its whole batch pending, to be written again
    under the same names.
    """

    WRITERS = 8

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unsynced = 0
        self._pool: ThreadPoolExecutor | None = None
        self._writes: list[Future[None]] = []
        self._stamp = 0

    async def open(self) -> None:
        """Create the folders if needed."""
        ensure_maildir(self.path)

    async def flush(self) -> None:
        """Wait for the files written since the last flush and make them durable."""
        writes, self._writes = self._writes, []
        errors = [error for error in await asyncio.gather(
            *(asyncio.wrap_future(write) for write in writes), return_exceptions=True)
            if error is not None]
        if errors:
            reason = getattr(errors[0], "strerror", None) or type(errors[0]).__name__
            raise TransportTemporaryError(
                f"écriture impossible dans le Maildir ({reason}) : {len(errors)} message(s)")
        if self.unsynced:
            os.sync()
            self.unsynced = 0

    async def close(self) -> None:
        """Finish the pending writes and stop the writer threads."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.gather(*(asyncio.wrap_future(w) for w in self._writes),
                                 return_exceptions=True)
            pool.shutdown(wait=True)

    def _write(self, name: str, stamp: int, data: bytes) -> None:
        """One file, written in ``tmp/`` then renamed into ``new/`` (a writer thread); its
        mtime is when it was handed over, so that files sort in sending order."""
        tmp = self.path / "tmp" / f"{name}.{threading.get_ident()}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.utime(tmp, ns=(stamp, stamp))
            os.replace(tmp, self.path / "new" / name)
        except OSError:
            tmp.unlink(missing_ok=True)  # no half-written leftover; the mail is written again
            raise

    @staticmethod
    def file_name(raw: bytes) -> str:
        """A name derived from the Message-ID (or the content), stable across retries."""
        end = _END_OF_HEADERS.search(raw)
        found = _MESSAGE_ID.search(raw, 0, end.start() if end else len(raw))
        message_id = b" ".join(found[1].split()) if found else b""
        key = message_id or raw
        return hashlib.sha256(key).hexdigest()[:32] + "." + socket.gethostname().replace("/", "_")

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> DeliveryReport:
        """Write the mail with its envelope as ``Return-Path``/``Delivered-To`` lines."""
        envelope = f"Return-Path: <{sender}>\n".encode()
        envelope += b"".join(f"Delivered-To: {r}\n".encode() for r in recipients)
        name = self.file_name(raw)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.WRITERS, thread_name_prefix="maildir-out")
        self._stamp = max(self._stamp + 1, time.time_ns())  # hand-over order, kept as mtime
        self._writes.append(self._pool.submit(self._write, name, self._stamp,
                                              envelope + raw.replace(b"\r\n", b"\n")))
        self.unsynced += 1
        return DeliveryReport(accepted=list(recipients))
