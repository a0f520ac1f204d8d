"""Inbound mail from an IMAP mailbox (MSSanté application mailbox).

Connection: implicit TLS (993) or STARTTLS (143), then SASL EXTERNAL when a client
certificate is configured and the server offers ``AUTH=EXTERNAL``, else LOGIN.

Pending mail is every message of ``folder`` that is neither ``\\Deleted`` nor
flagged ``$MailbotDone``. :meth:`ImapInbound.fetch` reads with ``BODY.PEEK[]``
(the server never marks it ``\\Seen``); :meth:`ImapInbound.set_aside`, called
after the database commit, flags the message ``$MailbotDone`` and then MOVEs it
to ``processed_folder``/``quarantine_folder`` (UID COPY + ``\\Deleted`` + UID
EXPUNGE when the server lacks MOVE). Keys are ``"UIDVALIDITY:UID"``; when the
server changes UIDVALIDITY every key changes and the pipeline, which dedups by
Message-ID, sees the old messages as duplicates. A message bigger than
``max_size_mb`` is returned as :class:`OversizedMail` carrying only its header.

Network faults raise :class:`~mailbot.errors.TransportTemporaryError`; the next
call reconnects (or use :func:`mailbot.transports.backoff.reconnect_with_backoff`
around :meth:`ImapInbound.open`). Logs carry host, UIDs and counts only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import aioimaplib

from mailbot.errors import TransportTemporaryError
from mailbot.transports.base import FetchedMail, OversizedMail
from mailbot.transports.imap_client import (
    CONNECTION_LOST,
    ImapClient,
    encode_mailbox,
    parse_literal,
    parse_literals,
    parse_search,
    parse_sizes,
    response_text,
    sequence_set,
)
from mailbot.transports.imap_session import ImapSession

log = logging.getLogger(__name__)

DONE_FLAG = "$MailbotDone"
QUARANTINE_FLAG = "$MailbotQuarantine"
IDLE_MAX_SECONDS = 29 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
FETCH_CHUNK_MESSAGES = 100  # sizes or bodies read per FETCH command…
FETCH_CHUNK_BYTES = 8_000_000  # …and at most this many bytes (one bigger mail goes alone)
_PENDING = ("UNDELETED", "UNKEYWORD", DONE_FLAG)
_SMALL_BYTES = FETCH_CHUNK_BYTES // FETCH_CHUNK_MESSAGES  # a full chunk of these fits the bound


def _chunks(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """``uids`` cut into runs of at most ``FETCH_CHUNK_MESSAGES`` mails and
    ``FETCH_CHUNK_BYTES`` bytes (a single bigger mail forms its own run)."""
    chunk: list[int] = []
    total = 0
    for uid in uids:
        size = sizes[uid]
        if chunk and (len(chunk) >= FETCH_CHUNK_MESSAGES or total + size > FETCH_CHUNK_BYTES):
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk



class ImapInbound(ImapSession):
    """:class:`~mailbot.transports.base.InboundTransport` over IMAP (aioimaplib)."""
    # -- reading -------------------------------------------------------------------------------

    async def _pending_uids(self, first_uid: int = 1, *, larger: int | None = None) -> list[int]:
        """UIDs of pending mails from ``first_uid`` on (only those over ``larger`` bytes)."""
        criteria: tuple[str, ...] = _PENDING
        if larger is None:
            # NOOP first: Dovecot only shows mail delivered meanwhile after a mailbox sync.
            await self._checked("NOOP", lambda c: c.noop())
        else:
            criteria = (*_PENDING, "LARGER", str(larger))
        response = await self._checked("UID SEARCH", lambda c: c.uid_search(
            f"{first_uid}:*", *criteria, charset=None))
        return [uid for uid in parse_search(response) if uid >= first_uid]

    async def fetch(self, limit: int | None = None,
                    skip: Collection[str] = ()) -> list[FetchedMail]:
        """Return the messages not set aside yet, oldest (lowest UID) first, but those whose
        key is in ``skip`` (not even downloaded)."""
        async with self._lock:
            uids = await self._pending_uids()
            if skip:
                uids = [uid for uid in uids if f"{self.uidvalidity}:{uid}" not in skip]
            if limit is not None:
                uids = uids[:limit]
            if not uids:
                return []
            # Sizes only of the mails too big to be read 100 at a time without counting
            # (one SEARCH finds them): the others fit FETCH_CHUNK_BYTES by construction.
            larger = set(await self._pending_uids(uids[0],
                                                  larger=min(_SMALL_BYTES, self._max_size)))
            sizes = {uid: 0 for uid in uids if uid not in larger}
            measured = [uid for uid in uids if uid in larger]
            for start in range(0, len(measured), FETCH_CHUNK_MESSAGES):
                # aioimaplib parses one network read recursively, a frame per line: a few
                # hundred lines per response at most, or Python's recursion limit is hit.
                part = sequence_set(measured[start:start + FETCH_CHUNK_MESSAGES])

                def measure(c: ImapClient, u: str = part) -> Any:
                    return c.uid("fetch", u, "(UID RFC822.SIZE)")

                sizes.update(parse_sizes(await self._checked("UID FETCH RFC822.SIZE", measure)))
            # Bodies by chunks of consecutive UIDs, one FETCH each: a round trip per chunk,
            # not per mail. Oversized mails: their header only, one by one.
            small = [uid for uid in uids if sizes.get(uid, self._max_size + 1) <= self._max_size]
            bodies: dict[int, bytes] = {}
            for chunk in _chunks(small, sizes):
                def many(c: ImapClient, u: str = sequence_set(chunk)) -> Any:
                    return c.uid("fetch", u, "(UID BODY.PEEK[])")

                bodies.update(parse_literals(await self._checked("UID FETCH", many, bounded=False)))
            mails: list[FetchedMail] = []
            for uid in uids:
                size = sizes.get(uid)
                if size is None or (size == 0 and uid not in bodies):
                    continue  # expunged meanwhile by someone else
                key = f"{self.uidvalidity}:{uid}"
                if size <= self._max_size:
                    raw = bodies.get(uid)
                else:
                    def header(c: ImapClient, u: str = str(uid)) -> Any:
                        return c.uid("fetch", u, "(UID BODY.PEEK[HEADER])")

                    raw = parse_literal(await self._checked("UID FETCH", header, bounded=False))
                if raw is None:
                    log.warning("%s : UID %d sans contenu dans la réponse FETCH, ignoré", self._where, uid)
                    continue
                if size > self._max_size:
                    log.warning("%s : UID %d trop volumineux (%d octets > %d), en-tête seul lu",
                                self._where, uid, size, self._max_size)
                    mails.append(OversizedMail(key=key, raw=raw, size=size))
                else:
                    mails.append(FetchedMail(key=key, raw=raw))
            if uids[-1] > self.last_uid:
                self.last_uid = uids[-1]
                self._save_state()
            log.info("%s : %d message(s) lu(s), UID %d à %d", self._where, len(mails), uids[0], uids[-1])
            return mails

    # -- setting aside -------------------------------------------------------------------------

    async def set_aside(self, key: str, *, quarantine: bool = False) -> None:
        """Flag ``key`` handled, then move it to the processed or quarantine folder.

        A key from an older UIDVALIDITY is only logged: the message will come back
        under a new key and be recognised by its Message-ID.
        """
        await self.set_aside_many([key], quarantine=quarantine)

    async def set_aside_many(self, keys: Sequence[str], *, quarantine: bool = False) -> None:
        """:meth:`set_aside` for several keys: one UID STORE and one UID MOVE for them all."""
        uids: list[int] = []
        stale: list[str] = []
        for key in keys:
            validity_text, _, uid_text = key.partition(":")
            if not (validity_text.isdigit() and uid_text.isdigit()):
                raise ValueError(f"clé IMAP invalide : {key!r} (attendu UIDVALIDITY:UID)")
            uids.append(int(uid_text))
            stale.append(validity_text)
        if not uids:
            return
        async with self._lock:
            await self._ensure_open()
            current = [uid for uid, validity in zip(uids, stale, strict=True)
                       if int(validity) == self.uidvalidity]
            if len(current) < len(uids):
                log.warning("%s : %d clé(s) d'une ancienne UIDVALIDITY (actuelle %s), laissée(s) "
                            "en place", self._where, len(uids) - len(current), self.uidvalidity)
            if not current:
                return
            uid_set = sequence_set(sorted(set(current)))
            cfg = self._config
            flags = f"({DONE_FLAG} {QUARANTINE_FLAG})" if quarantine else f"(\\Seen {DONE_FLAG})"
            await self._checked("UID STORE", lambda c: c.uid("store", uid_set, "+FLAGS.SILENT", flags))
            folder = cfg.quarantine_folder if quarantine else cfg.processed_folder
            if folder:
                await self._move(uid_set, folder)
            log.info("%s : UID %s mis de côté (%s)", self._where, uid_set,
                     "quarantaine" if quarantine else "traité")

    async def _move(self, uid: str, folder: str) -> None:
        name = encode_mailbox(folder)
        use_move = self._use_move if self._use_move is not None else "MOVE" in self.capabilities
        for attempt in range(2):
            if use_move:
                response = await self._run("UID MOVE", lambda c: c.uid("move", uid, name))
            else:
                response = await self._run("UID COPY", lambda c: c.uid("copy", uid, name))
            if response.result == "OK":
                break
            if attempt == 0 and "TRYCREATE" in response_text(response).upper():
                await self._run("CREATE", lambda c: self._create_folder(c, folder))
                continue
            raise TransportTemporaryError(
                f"{self._where} : déplacement de l'UID {uid} refusé ({response_text(response)})")
        if use_move:
            return
        await self._checked("UID STORE", lambda c: c.uid("store", uid, "+FLAGS.SILENT", "(\\Deleted)"))
        if "UIDPLUS" in self.capabilities:
            await self._checked("UID EXPUNGE", lambda c: c.uid("expunge", uid))
        else:
            log.warning("%s : pas d'UIDPLUS, UID %s marqué \\Deleted sans EXPUNGE", self._where, uid)

    # -- waiting -------------------------------------------------------------------------------

    async def wait_for_mail(self, timeout: float) -> None:
        """Return when mail newer than the last fetch may be there, or after ``timeout`` s.

        Uses IDLE (re-issued every 29 minutes) when the server offers it and
        ``idle`` is on; otherwise sleeps.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._lock:
            client = await self._ensure_open()
            if await self._pending_uids(self.last_uid + 1):
                return
            if self._config.idle and "IDLE" in client.capabilities:
                while (left := deadline - loop.time()) > 0:
                    if await self._run("IDLE", lambda c: self._idle_once(c, min(left, IDLE_MAX_SECONDS)),
                                       bounded=False):
                        return
                return
        await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def _idle_once(self, client: ImapClient, seconds: float) -> bool:
        """One IDLE command; True when the server announced new messages (EXISTS)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        idle = await client.idle_start(timeout=seconds)
        # A dropped connection fails the IDLE task too: take its outcome, or asyncio logs
        # "Task exception was never retrieved" with a traceback.
        idle.add_done_callback(lambda task: task.cancelled() or task.exception())
        try:
            while (left := end - loop.time()) > 0:
                try:
                    lines = await client.wait_server_push(timeout=left)
                except TimeoutError:
                    return False
                if lines == CONNECTION_LOST:
                    raise aioimaplib.Abort("connection lost during IDLE")
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return False
                if any(isinstance(line, bytes) and line.endswith(b"EXISTS") for line in lines):
                    log.debug("%s : IDLE, nouveau message annoncé", self._where)
                    return True
            return False
        finally:
            if not client.lost and client.has_pending_idle():
                client.idle_done()
                await asyncio.wait_for(idle, self._config.timeout_seconds)
