"""``[outbound]`` and ``[[outbound.routes]]``: how mail leaves, by recipient domain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from mailbot.config.base import Section, TlsClient, TlsMode


class MaildirRouteConfig(Section):
    """Outbound mail written as files into a Maildir (demo, tests)."""

    transport: Literal["maildir"]
    path: Path
    secure: bool = True  # may carry health data
    require_encryption: bool = False  # GPG: no key for the recipient → escalation, never plaintext
    domains: list[str] = Field(default_factory=list)


class SmtpRouteConfig(TlsClient):
    """Outbound mail over SMTP (MSSanté operator or ordinary provider)."""

    transport: Literal["smtp"]
    secure: bool = True
    require_encryption: bool = False
    domains: list[str] = Field(default_factory=list)
    max_messages_per_connection: int = Field(default=100, gt=0)


RouteConfig = Annotated[MaildirRouteConfig | SmtpRouteConfig, Field(discriminator="transport")]


class OutboundConfig(Section):
    """The default outbound transport, plus optional routes by recipient domain.

    Every field of the default route sits directly in ``[outbound]``; routes
    listed in ``[[outbound.routes]]`` take the recipients whose domain matches
    one of their ``domains`` (``*.mssante.fr`` style wildcards allowed).
    """

    transport: Literal["maildir", "smtp"]
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: str | None = None
    ca_file: Path | None = None
    insecure: bool = False
    timeout_seconds: float = Field(default=60.0, gt=0)
    secure: bool = True
    require_encryption: bool = False
    max_messages_per_connection: int = Field(default=100, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    routes: list[RouteConfig] = Field(default_factory=list)

    def default_route(self) -> MaildirRouteConfig | SmtpRouteConfig:
        """The route used when no ``[[outbound.routes]]`` entry matches."""
        if self.transport == "maildir":
            if self.path is None:
                raise ValueError("path")
            return MaildirRouteConfig(transport="maildir", path=self.path, secure=self.secure,
                                      require_encryption=self.require_encryption)
        if self.host is None:
            raise ValueError("host")
        return SmtpRouteConfig(
            transport="smtp", host=self.host, port=self.port, tls=self.tls, user=self.user,
            password=self.password, client_cert=self.client_cert, client_key=self.client_key,
            client_key_password=self.client_key_password, ca_file=self.ca_file,
            insecure=self.insecure, timeout_seconds=self.timeout_seconds, secure=self.secure,
            require_encryption=self.require_encryption,
            max_messages_per_connection=self.max_messages_per_connection,
        )
