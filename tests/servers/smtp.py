"""An aiosmtpd SMTP server for the tests: implicit TLS and STARTTLS, client certificate.

Both listeners share one :class:`RecordingHandler`, which records every accepted
message, counts connections, authenticates AUTH PLAIN/LOGIN with the test
password and AUTH EXTERNAL with the client certificate, and can be told to
answer given codes: for the next N transactions at a given stage, or always
for given recipients. A ``421`` answer also closes the connection, as real
servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import types
from asyncio import selector_events, sslproto
from dataclasses import dataclass, field
from typing import Any

import aiosmtpd.smtp
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.dovecot import HOST, free_port
from tests.servers.pki import TEST_PASSWORD, TEST_USER, Pki

# aiosmtpd itself sets the deprecated ``Session.login_data`` on every connection and logs a
# warning each time: noise in test and benchmark output.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    raw: bytes
    auth: str | None  # login name, "EXTERNAL:<cn>", or None


@dataclass
class _Rule:
    stage: str   # "MAIL", "RCPT" or "DATA"
    answer: str
    remaining: int


@dataclass
class RecordingHandler:
    """Records messages; answers scripted failures. Thread-safe (the server runs in a thread)."""

    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    transactions: int = 0
    accept_external: bool = True   # AUTH EXTERNAL succeeds (with a valid certificate)
    offer_external: bool = True    # AUTH EXTERNAL is advertised (new connections)
    _rules: list[_Rule] = field(default_factory=list)
    _by_recipient: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, answer: str, *, times: int = 1, stage: str = "MAIL") -> None:
        """Answer ``answer`` (e.g. ``"451 4.3.0 Réessayez"``) at ``stage`` for the next ``times`` transactions."""
        with self._lock:
            self._rules.append(_Rule(stage.upper(), answer, times))

    def refuse_recipient(self, address: str, answer: str = "550 5.1.1 Boîte inconnue") -> None:
        """Always answer ``answer`` to RCPT TO for ``address``."""
        with self._lock:
            self._by_recipient[address.lower()] = answer

    def reset(self) -> None:
        """Forget messages, counters and scripted answers."""
        with self._lock:
            self.messages.clear()
            self._rules.clear()
            self._by_recipient.clear()
            self.connections = self.transactions = 0
            self.accept_external = self.offer_external = True

    def _scripted(self, stage: str) -> str | None:
        with self._lock:
            for rule in self._rules:
                if rule.stage == stage and rule.remaining > 0:
                    rule.remaining -= 1
                    return rule.answer
        return None

    @staticmethod
    def _answer(server: SMTP, answer: str) -> str:
        if answer.startswith("421") and server.transport is not None:
            server.loop.call_soon(server.transport.close)
        return answer

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        with self._lock:
            self.transactions += 1
        scripted = self._scripted("MAIL")
        if scripted:
            return self._answer(server, scripted)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        with self._lock:
            refused = self._by_recipient.get(address.lower())
        scripted = refused or self._scripted("RCPT")
        if scripted:
            return self._answer(server, scripted)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        scripted = self._scripted("DATA")
        if scripted:
            return self._answer(server, scripted)
        auth = session.auth_data
        login = (auth.login.decode() if isinstance(auth, LoginPassword)
                 else str(auth) if auth is not None else None)
        with self._lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or b""), login))
        return "250 2.0.0 OK queued"

    async def auth_EXTERNAL(self, server: SMTP, args: list[str]) -> AuthResult:
        """SASL EXTERNAL: succeed when a valid client certificate was presented."""
        transport = server.transport
        cert = transport.get_extra_info("peercert") if transport is not None else None
        if not cert or not self.accept_external:
            return AuthResult(success=False, handled=False)
        subject = dict(item for rdn in cert.get("subject", ()) for item in rdn)
        return AuthResult(success=True, auth_data=f"EXTERNAL:{subject.get('commonName')}")


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                   auth_data: Any) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode() == TEST_USER and auth_data.password.decode() == TEST_PASSWORD):
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


class _AlertingSSLProtocol(sslproto.SSLProtocol):
    """asyncio drops the TLS alert when a server-side handshake fails; real (OpenSSL-based)
    servers send it, so that the client learns *why* (e.g. ``unknown ca``)."""

    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        if handshake_exc is not None:
            with contextlib.suppress(Exception):
                self._process_outgoing()  # type: ignore[attr-defined]
        super()._on_handshake_complete(handshake_exc)


# aiosmtpd builds its STARTTLS layer from ``sslproto.SSLProtocol``: give it ours (test only).
aiosmtpd.smtp.sslproto = types.SimpleNamespace(SSLProtocol=_AlertingSSLProtocol)  # type: ignore[assignment]


def _alerting_ssl_transports(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``loop``'s implicit-TLS server connections use :class:`_AlertingSSLProtocol`."""

    def make_ssl_transport(rawsock: socket.socket, protocol: asyncio.BaseProtocol,
                           sslcontext: ssl.SSLContext, waiter: Any = None, *,
                           server_side: bool = False, server_hostname: str | None = None,
                           extra: Any = None, server: Any = None, **timeouts: Any) -> Any:
        ssl_protocol = _AlertingSSLProtocol(loop, protocol, sslcontext, waiter, server_side,
                                            server_hostname, **timeouts)
        transport_class = selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
        transport_class(loop, rawsock, ssl_protocol, extra=extra, server=server)
        return ssl_protocol._app_transport

    loop._make_ssl_transport = make_ssl_transport  # type: ignore[attr-defined]


class _Controller(Controller):
    """Counts connections and primes itself with a client certificate."""

    def __init__(self, handler: RecordingHandler, client_context: ssl.SSLContext,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._client_context = client_context

    def factory(self) -> SMTP:
        handler = self.handler
        handler.connections += 1
        exclude = [] if handler.offer_external else ["EXTERNAL"]
        return SMTP(handler, **{**self.SMTP_kwargs, "auth_exclude_mechanism": exclude})

    def _create_server(self) -> Any:
        _alerting_ssl_transports(self.loop)
        return super()._create_server()

    def _trigger_server(self) -> None:
        with socket.create_connection((self.hostname, self.port), 2.0) as sock:
            if self.ssl_context:
                with self._client_context.wrap_socket(sock, server_hostname=self.hostname) as tls:
                    tls.recv(1024)
            else:
                sock.recv(1024)


class SmtpServer:
    """Two aiosmtpd listeners (implicit TLS on ``tls_port``, STARTTLS on ``starttls_port``)."""

    def __init__(self, pki: Pki, *, require_client_cert: bool = True,
                 handler: RecordingHandler | None = None) -> None:
        self.pki = pki
        self.host = HOST
        self.handler = handler if handler is not None else RecordingHandler()
        server_context = pki.server_context(require_client_cert=require_client_cert)
        primer = ssl.create_default_context(cafile=str(pki.ca_cert))
        primer.load_cert_chain(pki.client_cert, pki.client_key)
        common = {"hostname": HOST, "server_hostname": "localhost", "authenticator": _authenticator,
                  "ready_timeout": 5.0}
        self.tls_port = free_port()
        self.starttls_port = free_port()
        self._implicit = _Controller(self.handler, primer, port=self.tls_port,
                                     ssl_context=server_context, auth_require_tls=False,
                                     **common)  # aiosmtpd only knows STARTTLS as "TLS"
        self._starttls = _Controller(self.handler, primer, port=self.starttls_port,
                                     tls_context=server_context, require_starttls=True, **common)

    @property
    def messages(self) -> list[Received]:
        """Messages accepted so far."""
        return self.handler.messages

    def start(self) -> None:
        """Start both listeners (threads)."""
        self._implicit.start()
        self._starttls.start()
        self.handler.reset()

    def stop(self) -> None:
        """Stop both listeners."""
        for controller in (self._implicit, self._starttls):
            if controller._thread is not None:
                controller.stop()
