"""What aioimaplib lacks, for :mod:`mailbot.transports.imap`.

aioimaplib 2.x has no STARTTLS, no SASL EXTERNAL and leaves commands waiting
until their timeout when the connection drops. This module adds those on top of
it (a protocol subclass and a few functions), plus the small parsers for the
responses the inbound transport needs, IMAP's modified UTF-7 for folder names
and the small JSON state file (UIDVALIDITY, last UID).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import ssl
import tempfile
from pathlib import Path
from typing import Any

import aioimaplib

from mailbot.errors import TransportPermanentError

# aioimaplib logs every byte received at DEBUG (mail content, addresses) and some
# untagged lines at INFO: keep it quiet whatever the daemon's log level.
logging.getLogger("aioimaplib.aioimaplib").setLevel(logging.WARNING)

CRLF = b"\r\n"
#: Pushed into the IDLE queue when the connection is lost.
CONNECTION_LOST = [b"mailbot:connection-lost"]

#: What a network or protocol failure looks like (TimeoutError is an OSError).
IMAP_FAILURES = (OSError, aioimaplib.AioImapException)


class _Protocol(aioimaplib.IMAP4ClientProtocol):
    """Answers SASL continuations and fails pending commands when the link drops."""

    def __init__(self, loop: asyncio.AbstractEventLoop, conn_lost_cb: Any = None) -> None:
        super().__init__(loop, conn_lost_cb)
        self.lost = False
        self.sasl_response = b""

    def _continuation(self, line: bytes) -> None:
        command = self.pending_sync_command
        if command is not None and command.name == "AUTHENTICATE":
            self.transport.write(self.sasl_response + CRLF)
            return
        super()._continuation(line)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        pending = [self.pending_sync_command, *self.pending_async_commands.values()]
        for command in pending:
            if command is not None and not command._event.is_set():
                command._exception = aioimaplib.Abort("connection lost")
                command.close(b"connection lost", "KO")
        self.idle_queue.put_nowait(CONNECTION_LOST)
        super().connection_lost(exc)


class ImapClient(aioimaplib.IMAP4):
    """``aioimaplib.IMAP4`` using :class:`_Protocol`; TLS is on when ``ssl_context`` is given."""

    def create_client(self, host: str, port: int, loop: asyncio.AbstractEventLoop | None,
                      conn_lost_cb: Any = None, ssl_context: ssl.SSLContext | None = None) -> None:
        """Open the TCP (or TLS) connection in the background, as aioimaplib does."""
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context))

    @property
    def lost(self) -> bool:
        """True once the connection has dropped."""
        return bool(self.protocol.lost)

    @property
    def capabilities(self) -> set[str]:
        """The server's capabilities, upper-cased."""
        return {str(cap).upper() for cap in self.protocol.capabilities}

    def abort(self) -> None:
        """Close the socket at once, without LOGOUT."""
        transport = self.protocol.transport
        if transport is not None:
            transport.close()


async def starttls(client: ImapClient, context: ssl.SSLContext, host: str, timeout: float) -> None:
    """Upgrade a fresh plain connection with STARTTLS (RFC 3501 §6.2.1), then re-read CAPABILITY."""
    protocol = client.protocol
    if "STARTTLS" not in client.capabilities:
        raise TransportPermanentError(
            f"IMAP {host} : le serveur ne propose pas STARTTLS ; pas de connexion sans chiffrement "
            "(essayez tls = \"implicit\" sur le port 993)")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await asyncio.wait_for(protocol.execute(command), timeout)
    if response.result != "OK":
        raise aioimaplib.Error(f"STARTTLS refused: {response.result}")
    loop = asyncio.get_running_loop()
    transport = await asyncio.wait_for(
        loop.start_tls(protocol.transport, protocol, context, server_hostname=host), timeout)
    protocol.transport = transport
    await asyncio.wait_for(protocol.capability(), timeout)


async def authenticate_external(client: ImapClient, timeout: float) -> Any:
    """``AUTHENTICATE EXTERNAL`` with an empty authorisation identity; return the response."""
    protocol = client.protocol
    args = ["EXTERNAL", "="] if "SASL-IR" in client.capabilities else ["EXTERNAL"]
    protocol.sasl_response = b""
    command = aioimaplib.Command("AUTHENTICATE", protocol.new_tag(), *args, loop=protocol.loop)
    response = await asyncio.wait_for(protocol.execute(command), timeout)
    if response.result == "OK":
        protocol.state = aioimaplib.AUTH
    return response


def response_text(response: Any) -> str:
    """The tagged line's text (e.g. ``[AUTHENTICATIONFAILED] Authentication failed.``)."""
    lines = [line for line in response.lines if isinstance(line, bytes)]
    return lines[-1].decode("utf-8", "replace")[:200] if lines else ""


_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LITERAL_BODY = re.compile(rb"BODY\[[A-Z]*\] \{\d+\}$")


def parse_uidvalidity(response: Any) -> int | None:
    """UIDVALIDITY from a SELECT response."""
    for line in response.lines:
        if isinstance(line, bytes) and (match := _UIDVALIDITY.search(line)):
            return int(match.group(1))
    return None


def parse_search(response: Any) -> list[int]:
    """UIDs from a ``UID SEARCH`` response, ascending."""
    uids: set[int] = set()
    for line in response.lines[:-1]:
        if isinstance(line, bytes):
            uids.update(int(token) for token in line.split() if token.isdigit())
    return sorted(uids)


def parse_sizes(response: Any) -> dict[int, int]:
    """``{uid: RFC822.SIZE}`` from a ``UID FETCH … (RFC822.SIZE)`` response."""
    sizes: dict[int, int] = {}
    for line in response.lines:
        if isinstance(line, bytes | bytearray) and b"FETCH" in line:
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def parse_literal(response: Any) -> bytes | None:
    """The first ``BODY[…] {n}`` literal of a FETCH response."""
    lines = response.lines
    for index, line in enumerate(lines[:-1]):
        if isinstance(line, bytes) and _LITERAL_BODY.search(line):
            data = lines[index + 1]
            if isinstance(data, bytes | bytearray):
                return bytes(data)
    return None


def parse_literals(response: Any) -> dict[int, bytes]:
    """``{uid: literal}`` from a ``UID FETCH set (UID BODY.PEEK[])`` response for many mails.

    aioimaplib gives, per message, the line ``n FETCH (UID u BODY[] {size}``, the literal
    (a ``bytearray``) and the closing line; UID may also come after the literal.
    """
    found: dict[int, bytes] = {}
    lines = response.lines
    for index, line in enumerate(lines[:-1]):
        if not (isinstance(line, bytes) and _LITERAL_BODY.search(line)):
            continue
        data = lines[index + 1]
        if not isinstance(data, bytes | bytearray):
            continue
        uid = _UID.search(line)
        after = lines[index + 2] if index + 2 < len(lines) else None
        if uid is None and isinstance(after, bytes):
            uid = _UID.search(after)
        if uid is not None:
            found[int(uid.group(1))] = bytes(data)
    return found


def sequence_set(uids: list[int]) -> str:
    """Compact IMAP sequence set for sorted ``uids``: ``[1, 2, 3, 7]`` → ``"1:3,7"``."""
    parts: list[str] = []
    start = previous = uids[0]
    for uid in [*uids[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        parts.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(parts)


def encode_mailbox(name: str) -> str:
    """Folder name in IMAP modified UTF-7 (RFC 3501 §5.1.3), quoted for a command."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return aioimaplib.quoted("".join(out))


log = logging.getLogger("mailbot.transports.imap")


def read_state(path: Path | None, host: str, folder: str) -> tuple[int | None, int] | None:
    """``(uidvalidity, last_uid)`` saved for ``host``/``folder``, or ``None``."""
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("host") != host or data.get("folder") != folder:
            return None
        validity = data.get("uidvalidity")
        return (int(validity) if validity is not None else None), int(data.get("last_uid") or 0)
    except (OSError, ValueError, TypeError, AttributeError) as error:
        log.warning("fichier d'état IMAP %s illisible (%s), ignoré", path, type(error).__name__)
        return None


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".imap-state-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
