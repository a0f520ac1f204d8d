"""Outbound mail over SMTP (MSSanté operator or ordinary provider), with aiosmtplib.

Implicit TLS (465) or STARTTLS (587); authentication by SASL EXTERNAL when a
client certificate is configured and the server offers it, else AUTH with
user/password when given, else none (the TLS client certificate alone).

One connection is reused across :meth:`SmtpOutbound.send` calls and renewed when
the server closed it or after ``max_messages_per_connection`` messages. Each
recipient's answer lands in the :class:`~mailbot.transports.base.DeliveryReport`
(4xx → ``temporary``, 5xx → ``permanent``); connection faults (refused, timeout,
421) raise :class:`~mailbot.errors.TransportTemporaryError`, a refused login or
certificate :class:`~mailbot.errors.TransportPermanentError`. Logs carry the
server, counts and reply codes, never addresses or content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPDataError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)

from mailbot.config import SmtpRouteConfig
from mailbot.errors import TransportError, TransportPermanentError, TransportTemporaryError
from mailbot.transports.base import DeliveryReport
from mailbot.transports.tls import classify_tls_failure, client_context

log = logging.getLogger(__name__)

SERVICE_UNAVAILABLE = 421
_NETWORK_FAILURES = (OSError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                     aiosmtplib.SMTPConnectError)


class _ConnectionLost(Exception):
    """Internal: the server went away (or said 421) during a transaction."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(stage)
        self.stage = stage
        self.error = error


def _answer(error: SMTPResponseException) -> str:
    return f"{error.code} {error.message}".strip()


class SmtpOutbound:
    """:class:`~mailbot.transports.base.OutboundTransport` over SMTP."""

    def __init__(self, config: SmtpRouteConfig, *, local_hostname: str | None = None) -> None:
        """``local_hostname`` is the EHLO name (default: this machine's FQDN)."""
        self._config = config
        default_port = {"implicit": 465, "starttls": 587, "none": 25}[config.tls]
        self._port = config.port or default_port
        self._where = f"SMTP {config.host}:{self._port}"
        self._local_hostname = local_hostname
        self._context: ssl.SSLContext | None = None
        self._smtp: aiosmtplib.SMTP | None = None
        self._sent_on_connection = 0
        self._lock = asyncio.Lock()
        self.connections_opened = 0

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._smtp is not None and self._smtp.is_connected

    @property
    def tls_object(self) -> ssl.SSLObject | None:
        """The TLS session of the current connection (``None``: not connected, or no TLS)."""
        if self._smtp is None or not self._smtp.is_connected:
            return None
        found = self._smtp.get_transport_info("ssl_object")
        return found if isinstance(found, ssl.SSLObject) else None

    async def open(self) -> None:
        """Connect, negotiate TLS and authenticate (also checks the certificate files)."""
        async with self._lock:
            await self._ensure()

    async def close(self) -> None:
        """QUIT (best effort) and close; safe to call twice."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if smtp.is_connected:
            with contextlib.suppress(SMTPException, OSError):
                await asyncio.wait_for(smtp.quit(), min(5.0, self._config.timeout_seconds))
        smtp.close()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    async def _ensure(self) -> aiosmtplib.SMTP:
        limit = self._config.max_messages_per_connection
        if self._smtp is not None and self._smtp.is_connected and self._sent_on_connection < limit:
            return self._smtp
        await self.close()
        self._smtp = await self._connect()
        self._sent_on_connection = 0
        return self._smtp

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self._config
        if self._context is None and cfg.tls != "none":
            self._context = client_context(cfg)
        if cfg.tls == "none":
            log.warning("%s : connexion SANS chiffrement (tls = none), réservé aux tests", self._where)
        smtp = aiosmtplib.SMTP(
            hostname=cfg.host, port=self._port, use_tls=cfg.tls == "implicit",
            start_tls=cfg.tls == "starttls", tls_context=self._context,
            timeout=cfg.timeout_seconds, local_hostname=self._local_hostname)
        try:
            await smtp.connect()
            await self._authenticate(smtp)
        except TransportError:
            smtp.close()
            raise
        except SMTPConnectResponseError as error:
            smtp.close()
            kind = TransportPermanentError if error.code >= 500 else TransportTemporaryError
            raise kind(f"{self._where} : le serveur refuse la connexion ({_answer(error)})") from error
        except (SMTPException, OSError) as error:
            smtp.close()
            mapped = classify_tls_failure(error, cfg, self._port, "SMTP")
            if mapped is not None:
                raise mapped from error
            if isinstance(error, SMTPResponseException):
                kind = TransportPermanentError if error.code >= 500 else TransportTemporaryError
                raise kind(f"{self._where} : {_answer(error)}") from error
            if isinstance(error, _NETWORK_FAILURES):
                raise TransportTemporaryError(
                    f"{self._where} : connexion impossible ({type(error).__name__})") from error
            if "STARTTLS" in str(error).upper():
                raise TransportPermanentError(
                    f"{self._where} : le serveur ne propose pas STARTTLS ; pas d'envoi sans "
                    "chiffrement (essayez tls = \"implicit\" sur le port 465)") from error
            raise TransportPermanentError(f"{self._where} : {error}") from error
        self.connections_opened += 1
        log.info("%s : connecté (connexion n°%d)", self._where, self.connections_opened)
        return smtp

    async def _authenticate(self, smtp: aiosmtplib.SMTP) -> None:
        cfg = self._config
        if smtp.is_ehlo_or_helo_needed:  # after implicit TLS or STARTTLS nothing was said yet
            await smtp.ehlo()
        methods = set(smtp.server_auth_methods)
        try:
            if cfg.client_cert is not None and "external" in methods:
                response = await smtp.execute_command(b"AUTH", b"EXTERNAL", b"=")
                if response.code != 235:
                    raise SMTPAuthenticationError(response.code, response.message)
            elif cfg.user and cfg.password is not None:
                await smtp.login(cfg.user, cfg.password)
        except SMTPAuthenticationError as error:
            if 400 <= error.code < 500:
                raise TransportTemporaryError(
                    f"{self._where} : authentification momentanément impossible ({_answer(error)})"
                ) from error
            how = (f"par certificat {cfg.client_cert}" if cfg.client_cert is not None
                   and "external" in methods else "par identifiant et mot de passe")
            raise TransportPermanentError(
                f"{self._where} : authentification {how} refusée ({_answer(error)})") from error

    # -- sending -------------------------------------------------------------------------------

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> DeliveryReport:
        """Deliver ``raw`` to ``recipients``; per-recipient results, faults raise."""
        if not recipients:
            return DeliveryReport()
        async with self._lock:
            for attempt in range(2):
                reused = self._smtp is not None and self._smtp.is_connected
                smtp = await self._ensure()
                try:
                    report = await self._transaction(smtp, sender, recipients, raw)
                except _ConnectionLost as lost:
                    self._drop()
                    # A connection that died while idle fails at MAIL FROM: nothing was
                    # accepted yet, so one retry on a fresh connection is safe.
                    if reused and lost.stage == "MAIL" and attempt == 0:
                        log.info("%s : connexion réutilisée fermée par le serveur, reconnexion",
                                 self._where)
                        continue
                    detail = (_answer(lost.error) if isinstance(lost.error, SMTPResponseException)
                              else type(lost.error).__name__)
                    raise TransportTemporaryError(
                        f"{self._where} : connexion perdue pendant {lost.stage} ({detail})"
                    ) from lost.error
                self._sent_on_connection += 1
                log.info("%s : %d destinataire(s) accepté(s), %d temporaire(s), %d définitif(s)%s",
                         self._where, len(report.accepted), len(report.temporary),
                         len(report.permanent), _codes(report))
                return report
        raise AssertionError("unreachable")  # pragma: no cover

    async def _transaction(self, smtp: aiosmtplib.SMTP, sender: str, recipients: Sequence[str],
                           raw: bytes) -> DeliveryReport:
        report = DeliveryReport()
        addresses = [sender, *recipients]
        utf8 = any(not address.isascii() for address in addresses)
        if utf8 and not smtp.supports_extension("smtputf8"):
            for recipient in recipients:
                report.permanent[recipient] = "553 adresse non ASCII et serveur sans SMTPUTF8"
            return report
        encoding = "utf-8" if utf8 else "ascii"
        options = [f"SIZE={len(raw)}"] if smtp.supports_extension("size") else []
        if utf8:
            options.append("SMTPUTF8")
        try:
            await self._step("MAIL", smtp.mail(sender, options=options, encoding=encoding))
        except SMTPSenderRefused as error:
            _classify(report, recipients, _answer(error), error.code)
            await _reset(smtp)
            return report
        accepted: list[str] = []
        for recipient in recipients:
            try:
                await self._step("RCPT", smtp.rcpt(recipient, encoding=encoding))
            except SMTPRecipientRefused as error:
                _classify(report, [recipient], _answer(error), error.code)
            else:
                accepted.append(recipient)
        if not accepted:
            await _reset(smtp)
            return report
        try:
            await self._step("DATA", smtp.data(raw))
        except SMTPDataError as error:
            _classify(report, accepted, _answer(error), error.code)
            await _reset(smtp)
            return report
        report.accepted.extend(accepted)
        return report

    @staticmethod
    async def _step(stage: str, command: object) -> object:
        try:
            return await command  # type: ignore[misc]
        except SMTPResponseException as error:
            if error.code == SERVICE_UNAVAILABLE:
                raise _ConnectionLost(stage, error) from error
            raise
        except _NETWORK_FAILURES as error:
            raise _ConnectionLost(stage, error) from error


def _classify(report: DeliveryReport, recipients: Sequence[str], answer: str, code: int) -> None:
    target = report.permanent if 500 <= code < 600 else report.temporary
    for recipient in recipients:
        target[recipient] = answer


def _codes(report: DeliveryReport) -> str:
    codes = sorted({answer.split(" ", 1)[0] for answer in (*report.temporary.values(),
                                                            *report.permanent.values())})
    return f" (codes {', '.join(codes)})" if codes else ""


async def _reset(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(SMTPException, OSError):
        await smtp.rset()
