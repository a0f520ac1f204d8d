"""The mail servers of the configuration, their DNS names, the IMAP state file and X-MSS-NIL.

For each configured server (IMAP inbound, every SMTP route): DNS resolution of
its host. Then the IMAP state file must be writable and, when a route is
MSSanté, the software's registration number must be set. Every problem is said
in French with its fix.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Literal

from mailbot.app import App
from mailbot.config import ImapInboundConfig, SmtpRouteConfig
from mailbot.doctor.check import Check

DOCTOR_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Server:
    """One configured server, as the administrator knows it."""

    label: str                      # "réception IMAP", "envoi SMTP (voie par défaut)"…
    key: str                        # configuration key: "inbound", "outbound.routes[1]"…
    protocol: Literal["IMAP", "SMTP"]
    config: ImapInboundConfig | SmtpRouteConfig

    @property
    def port(self) -> int:
        """The port the transport connects to."""
        if self.config.port:
            return self.config.port
        if self.protocol == "IMAP":
            return 993 if self.config.tls == "implicit" else 143
        return {"implicit": 465, "starttls": 587, "none": 25}[self.config.tls]

    @property
    def where(self) -> str:
        """``host:port``."""
        return f"{self.config.host}:{self.port}"


def servers(app: App) -> list[Server]:
    """Every IMAP/SMTP server of the configuration, inbound first."""
    found: list[Server] = []
    config = app.config
    if isinstance(config.inbound, ImapInboundConfig):
        found.append(Server("réception IMAP", "inbound", "IMAP", config.inbound))
    if config.outbound.transport == "smtp":
        default = config.outbound.default_route()
        assert isinstance(default, SmtpRouteConfig)
        found.append(Server("envoi SMTP (voie par défaut)", "outbound", "SMTP", default))
    for index, route in enumerate(config.outbound.routes, start=1):
        if isinstance(route, SmtpRouteConfig):
            domains = ", ".join(route.domains) or "aucun domaine"
            found.append(Server(f"envoi SMTP (voie {index} : {domains})",
                                f"outbound.routes[{index}]", "SMTP", route))
    return found


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def _resolve(server: Server) -> Check:
    host = server.config.host
    name = f"DNS {server.label}"
    if _is_ip(host):
        return Check(name, True, f"{host} est une adresse IP (pas de résolution)")
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, server.port, type=socket.SOCK_STREAM), DOCTOR_TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as error:
        reason = "délai dépassé" if isinstance(error, TimeoutError) else (
            getattr(error, "strerror", None) or type(error).__name__)
        return Check(name, False, f"le nom « {host} » ne se résout pas ({reason})",
                     f"vérifiez la clé {server.key}.host (faute de frappe ?) et le DNS de cette "
                     "machine (/etc/resolv.conf, accès au résolveur, pare-feu)")
    addresses = sorted({str(info[4][0]) for info in infos})
    return Check(name, True, f"{host} → {', '.join(addresses[:4])}")


def dns_checks(app: App) -> list[Check]:
    """Resolve the host of every configured server."""
    found = servers(app)
    if not found:
        return []

    async def run() -> list[Check]:
        return list(await asyncio.gather(*(_resolve(server) for server in found)))

    return asyncio.run(run())


def state_checks(app: App) -> list[Check]:
    """The IMAP state file (UIDVALIDITY, last UID) must be writable by the daemon."""
    inbound = app.config.inbound
    if not isinstance(inbound, ImapInboundConfig):
        return []
    source = app.config.source
    path = inbound.state_file or (source.parent / "imap-state.json" if source else None)
    if path is None:
        return []
    target = path if path.exists() else path.parent
    if os.access(target, os.W_OK):
        return [Check("fichier d'état IMAP", True, str(path))]
    return [Check("fichier d'état IMAP", False, f"{target} n'est pas accessible en écriture",
                  "indiquez [inbound] state_file = \"/var/lib/mailbot/imap-state.json\" (un dossier "
                  "où l'utilisateur du service écrit ; voir contrib/mailbot.service)")]


def identity_checks(app: App) -> list[Check]:
    """MSSanté asks every message to carry the software's registration number (X-MSS-NIL)."""
    if not any(isinstance(server.config, SmtpRouteConfig) and server.config.secure
               for server in servers(app)):
        return []
    if app.config.identity.nil:
        return [Check("numéro d'enregistrement MSSanté (X-MSS-NIL)", True, app.config.identity.nil)]
    return [Check("numéro d'enregistrement MSSanté (X-MSS-NIL)", False,
                  "absent : les messages envoyés sur MSSanté n'auront pas l'en-tête X-MSS-NIL",
                  "ajoutez [identity] nil = \"…\" (numéro attribué par l'ANS au logiciel)",
                  warning=True)]
