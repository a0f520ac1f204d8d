"""Test messages and transport configurations pointing at the test servers."""

from __future__ import annotations

import uuid
from typing import Any

from mailbot.config import ImapInboundConfig, SmtpRouteConfig
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import TEST_PASSWORD, TEST_USER, Pki
from tests.servers.smtp import SmtpServer


def make_mail(subject: str = "Fiche de saisine", *, body_size: int = 0,
              message_id: str | None = None) -> bytes:
    """A small RFC 5322 message with CRLF line endings (``body_size`` pads the body)."""
    message_id = message_id or f"<{uuid.uuid4().hex}@partenaire.test>"
    body = "Bonjour,\r\nvoici une demande.\r\n"
    if body_size:
        line = "x" * 76 + "\r\n"
        body += line * (body_size // len(line) + 1)
    return (f"From: partenaire@hopital.test\r\nTo: bal@cpts.test\r\nSubject: {subject}\r\n"
            f"Message-ID: {message_id}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0100\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


def imap_config(server: DovecotServer, pki: Pki, *, tls: str = "implicit", auth: str = "password",
                port: int | None = None, **overrides: Any) -> ImapInboundConfig:
    """Settings for ``server``: ``auth`` is ``password`` or ``cert``."""
    fields: dict[str, Any] = {
        "transport": "imap", "host": server.host, "tls": tls, "ca_file": pki.ca_cert,
        "port": port or (server.imaps_port if tls == "implicit" else server.imap_port),
        "timeout_seconds": 5.0,
    }
    if auth == "password":
        fields.update(user=server.user, password=server.password)
    else:
        fields.update(client_cert=pki.client_cert, client_key=pki.client_key)
    fields.update(overrides)
    return ImapInboundConfig.model_validate(fields)


def smtp_config(server: SmtpServer, pki: Pki, *, tls: str = "implicit", with_password: bool = True,
                **overrides: Any) -> SmtpRouteConfig:
    """Settings for ``server`` with the good client certificate (and the password)."""
    fields: dict[str, Any] = {
        "transport": "smtp", "host": server.host, "tls": tls, "ca_file": pki.ca_cert,
        "port": server.tls_port if tls == "implicit" else server.starttls_port,
        "client_cert": pki.client_cert, "client_key": pki.client_key, "timeout_seconds": 5.0,
    }
    if with_password:
        fields.update(user=TEST_USER, password=TEST_PASSWORD)
    fields.update(overrides)
    return SmtpRouteConfig.model_validate(fields)
