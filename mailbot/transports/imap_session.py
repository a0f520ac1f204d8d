"""An IMAP session: connect (implicit TLS or STARTTLS), authenticate, select, reconnect.

SASL EXTERNAL when a client certificate is configured and the server offers
``AUTH=EXTERNAL``, else LOGIN. The UIDVALIDITY and last UID seen are kept in a
state file. Network faults raise :class:`~mailbot.errors.TransportTemporaryError`;
the next call reconnects. Logs carry host, UIDs and counts only.
"""


from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aioimaplib

from mailbot.config import ImapInboundConfig
from mailbot.errors import TransportError, TransportPermanentError, TransportTemporaryError
from mailbot.transports.imap_client import (
    IMAP_FAILURES,
    ImapClient,
    authenticate_external,
    encode_mailbox,
    parse_uidvalidity,
    read_state,
    response_text,
    starttls,
    write_state,
)
from mailbot.transports.tls import classify_tls_failure, client_context

log = logging.getLogger(__name__)


T = TypeVar("T")


class ImapSession:
    """One IMAP connection to the configured folder, opened on demand and reopened after a fault."""

    def __init__(self, config: ImapInboundConfig, state_path: Path | None = None, *,
                 use_move: bool | None = None) -> None:
        """``state_path`` (default ``config.state_file``) keeps UIDVALIDITY and the last UID;
        ``use_move=False`` forces the COPY/EXPUNGE fallback even if MOVE is offered."""
        self._config = config
        self._state_path = state_path or config.state_file
        self._use_move = use_move
        self._port = config.port or (993 if config.tls == "implicit" else 143)
        self._where = f"IMAP {config.host}:{self._port}"
        self._client: ImapClient | None = None
        self._context: ssl.SSLContext | None = None
        self._lock = asyncio.Lock()
        self._max_size = int(config.max_size_mb * 1_000_000)  # MB, as the classifier counts
        self.uidvalidity: int | None = None
        self.last_uid = 0
        self._load_state()

    # -- connection --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a selected, live session exists."""
        return self._client is not None and not self._client.lost

    @property
    def capabilities(self) -> set[str]:
        """The capabilities of the current session (empty when disconnected)."""
        return self._client.capabilities if self._client is not None else set()

    @property
    def tls_object(self) -> ssl.SSLObject | None:
        """The TLS session of the current connection (``None``: not connected, or no TLS)."""
        transport = self._client.protocol.transport if self._client is not None else None
        found = transport.get_extra_info("ssl_object") if transport is not None else None
        return found if isinstance(found, ssl.SSLObject) else None

    async def missing_folders(self) -> list[str]:
        """The configured folders (inbox, processed, quarantine) the server does not LIST."""
        cfg = self._config
        missing = []
        async with self._lock:
            for folder in filter(None, (cfg.folder, cfg.processed_folder, cfg.quarantine_folder)):
                def listing(c: ImapClient, name: str = encode_mailbox(folder)) -> Any:
                    return c.list('""', name)

                response = await self._checked("LIST", listing)
                # aioimaplib strips "* LIST": any untagged line is the folder listed
                if not any(isinstance(line, bytes) and line.strip() for line in response.lines[:-1]):
                    missing.append(folder)
        return missing

    async def open(self) -> None:
        """Connect, authenticate, create the target folders and SELECT ``folder``."""
        async with self._lock:
            await self._ensure_open()

    async def close(self) -> None:
        """LOGOUT (best effort) and close the socket; safe to call twice."""
        client, self._client = self._client, None
        if client is None:
            return
        if not client.lost:
            with contextlib.suppress(*IMAP_FAILURES):
                if client.has_pending_idle():  # closed from another task while IDLE runs
                    client.idle_done()
                await asyncio.wait_for(client.logout(), min(5.0, self._config.timeout_seconds))
        client.abort()

    async def _ensure_open(self) -> ImapClient:
        if self._client is not None and not self._client.lost:
            return self._client
        await self.close()
        cfg = self._config
        if self._context is None and cfg.tls != "none":
            self._context = client_context(cfg)
        if cfg.tls == "none":
            log.warning("%s : connexion SANS chiffrement (tls = none), réservé aux tests", self._where)
        implicit = self._context if cfg.tls == "implicit" else None
        client = ImapClient(cfg.host, self._port, timeout=cfg.timeout_seconds, ssl_context=implicit)
        try:
            await client.wait_hello_from_server()
            if cfg.tls == "starttls" and self._context is not None:
                await starttls(client, self._context, cfg.host, cfg.timeout_seconds)
            await self._authenticate(client)
            await self._prepare(client)
        except TransportError:
            client.abort()
            raise
        except IMAP_FAILURES as error:
            client.abort()
            mapped = classify_tls_failure(error, cfg, self._port, "IMAP")
            if mapped is not None:
                raise mapped from error
            raise TransportTemporaryError(
                f"{self._where} : connexion impossible ({type(error).__name__})") from error
        self._client = client
        log.info("%s : connecté, dossier sélectionné, UIDVALIDITY %s", self._where, self.uidvalidity)
        return client

    async def _authenticate(self, client: ImapClient) -> None:
        cfg = self._config
        if client.get_state() == aioimaplib.AUTH:  # PREAUTH
            return
        if cfg.client_cert is not None and "AUTH=EXTERNAL" in client.capabilities:
            response = await authenticate_external(client, cfg.timeout_seconds)
            if response.result != "OK":
                raise TransportPermanentError(
                    f"{self._where} : authentification par certificat (SASL EXTERNAL) refusée "
                    f"({response_text(response)}) ; le certificat client {cfg.client_cert} "
                    "n'est pas reconnu par le serveur (autorité, validité ou boîte associée)")
        elif cfg.user and cfg.password is not None:
            if "LOGINDISABLED" in client.capabilities:
                raise TransportPermanentError(f"{self._where} : le serveur refuse LOGIN (LOGINDISABLED)")
            response = await client.login(aioimaplib.quoted(cfg.user), cfg.password)
            if response.result != "OK":
                text = response_text(response)
                error = TransportTemporaryError if "[UNAVAILABLE]" in text else TransportPermanentError
                raise error(f"{self._where} : identifiant ou mot de passe refusé ({text})")
        elif cfg.client_cert is not None:
            raise TransportPermanentError(
                f"{self._where} : le serveur ne propose pas l'authentification par certificat "
                "(AUTH=EXTERNAL) ; renseignez user et password")
        else:
            raise TransportPermanentError(
                f"{self._where} : aucun moyen de s'authentifier : renseignez user et password, "
                "ou client_cert")
        await asyncio.wait_for(client.protocol.capability(), cfg.timeout_seconds)

    async def _prepare(self, client: ImapClient) -> None:
        cfg = self._config
        for folder in (cfg.processed_folder, cfg.quarantine_folder):
            if folder:
                await self._create_folder(client, folder)
        response = await client.select(encode_mailbox(cfg.folder))
        if response.result != "OK":
            raise TransportPermanentError(
                f"{self._where} : dossier « {cfg.folder} » inaccessible ({response_text(response)})")
        validity = parse_uidvalidity(response)
        if validity is None:
            raise TransportPermanentError(f"{self._where} : le serveur n'a pas donné d'UIDVALIDITY")
        if self.uidvalidity is not None and validity != self.uidvalidity:
            log.warning("%s : UIDVALIDITY a changé (%s → %s) : les messages restants seront relus "
                        "sous de nouvelles clés et dédoublonnés par Message-ID",
                        self._where, self.uidvalidity, validity)
            self.last_uid = 0
        self.uidvalidity = validity
        self._save_state()

    async def _create_folder(self, client: ImapClient, folder: str) -> None:
        name = encode_mailbox(folder)
        response = await client.create(name)
        if response.result == "OK":
            log.info("%s : dossier créé", self._where)
            await client.subscribe(name)
        elif "ALREADYEXISTS" not in response_text(response).upper():
            raise TransportPermanentError(
                f"{self._where} : impossible de créer le dossier « {folder} » ({response_text(response)})")

    async def _run(self, what: str, call: Callable[[ImapClient], Awaitable[T]], *,
                   bounded: bool = True) -> T:
        """Run one command; a network fault drops the session and becomes a temporary error.

        ``bounded`` puts the whole command under ``timeout_seconds``; body FETCHes and
        IDLE are not bounded (aioimaplib times out a FETCH that stops receiving data).
        """
        client = await self._ensure_open()
        try:
            if bounded:
                return await asyncio.wait_for(call(client), self._config.timeout_seconds)
            return await call(client)
        except IMAP_FAILURES as error:
            client.abort()
            self._client = None
            raise TransportTemporaryError(
                f"{self._where} : {what} interrompu ({type(error).__name__})") from error

    async def _checked(self, what: str, call: Callable[[ImapClient], Awaitable[Any]], *,
                       bounded: bool = True) -> Any:
        response = await self._run(what, call, bounded=bounded)
        if response.result != "OK":
            raise TransportTemporaryError(f"{self._where} : {what} refusé ({response_text(response)})")
        return response

    # -- state file ----------------------------------------------------------------------------

    def _load_state(self) -> None:
        state = read_state(self._state_path, self._config.host, self._config.folder)
        if state is not None:
            self.uidvalidity, self.last_uid = state

    def _save_state(self) -> None:
        if self._state_path is not None:
            write_state(self._state_path, {
                "host": self._config.host, "folder": self._config.folder,
                "uidvalidity": self.uidvalidity, "last_uid": self.last_uid})
