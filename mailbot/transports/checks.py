"""``mailbot doctor``: checks of the mail servers (IMAP inbound, every SMTP route).

For each configured server: DNS resolution of its host; the configured client
certificate (readable, matching its key, valid, expiring in more than 30 days);
a real connection — TLS, the server's certificate (verified, expiry), login —
and, for IMAP, the inbox, processed and quarantine folders (created when
missing, as the daemon does) and a writable state file; the X-MSS-NIL number
when a route is MSSanté. Every problem is said in French with its fix.

A configuration error — a client certificate missing, expired or refused by the
server, a refused login, an untrusted server certificate — makes ``doctor`` exit
with 2; a server that cannot be reached exits 1. Connections run concurrently
(``asyncio.run``), each bounded by ``DOCTOR_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from mailbot.app import App
from mailbot.config import ImapInboundConfig, SmtpRouteConfig
from mailbot.doctor import Check
from mailbot.errors import (
    TLSConfigError,
    TransportError,
    TransportPermanentError,
    TransportTemporaryError,
)
from mailbot.transports.tls import PKCS12_SUFFIXES, client_context

DOCTOR_TIMEOUT_SECONDS = 15.0
EXPIRY_WARNING_DAYS = 30
CONFIG_ERROR = 2  # exit code of ``doctor`` for a configuration error


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


# -- DNS ---------------------------------------------------------------------------------------


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


# -- the client certificate ----------------------------------------------------------------------


def _date(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y}"


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string() or "(sujet vide)"


def _load_certificate(path: Path, password: str | None) -> x509.Certificate:
    """The certificate in a PEM or PKCS#12 file; :class:`TLSConfigError` when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TLSConfigError(f"certificat client introuvable ou illisible : {path} "
                             f"({error.strerror})") from None
    try:
        if path.suffix.lower() in PKCS12_SUFFIXES:
            _key, certificate, _chain = pkcs12.load_key_and_certificates(
                data, password.encode() if password is not None else None)
            if certificate is None:
                raise ValueError("no certificate")
            return certificate
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise TLSConfigError(f"certificat client {path} illisible (PEM, ou PKCS#12 .p12/.pfx avec "
                             "son mot de passe client_key_password)") from None


def certificate_expiry(name: str, certificate: x509.Certificate, *, what: str, fix: str,
                       now: datetime | None = None) -> Check:
    """Validity of ``certificate``: an error when expired or not yet valid, a warning under
    ``EXPIRY_WARNING_DAYS`` days, else OK with its subject, issuer and end date."""
    now = now or datetime.now(UTC)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    issuer = certificate.issuer.rfc4514_string()
    about = f"{_subject(certificate)}, émis par {issuer}"
    if end < now:
        return Check(name, False, f"{what} expiré depuis le {_date(end)} ({about})", fix,
                     exit_code=CONFIG_ERROR)
    if start > now:
        return Check(name, False, f"{what} pas encore valide (à partir du {_date(start)})", fix,
                     exit_code=CONFIG_ERROR)
    days = (end - now).days
    if days < EXPIRY_WARNING_DAYS:
        return Check(name, False, f"{what} expire dans {days} jour(s), le {_date(end)} ({about})",
                     fix, warning=True)
    return Check(name, True, f"{about} ; valide jusqu'au {_date(end)} ({days} jours)")


def _client_certificate(server: Server) -> list[Check]:
    cfg = server.config
    name = f"certificat client {server.label}"
    if cfg.client_cert is None:
        return [Check(name, True, "aucun (authentification par identifiant et mot de passe)")]
    renew = ("renouvelez le certificat de la BAL applicative auprès de l'ANS (IGC-Santé, "
             f"certificat serveur/organisation), puis mettez à jour {server.key}.client_cert et "
             f"{server.key}.client_key")
    try:
        certificate = _load_certificate(cfg.client_cert, cfg.client_key_password)
        checks = [certificate_expiry(name, certificate, what=f"le certificat {cfg.client_cert}",
                                     fix=renew)]
        if checks[0].ok or checks[0].warning:
            client_context(cfg)  # the key: present, matching, password right
    except TLSConfigError as error:
        return [Check(name, False, str(error),
                      f"vérifiez {server.key}.client_cert, {server.key}.client_key et "
                      f"{server.key}.client_key_password (fichiers PEM lisibles par l'utilisateur "
                      "du service, clé correspondant au certificat)", exit_code=CONFIG_ERROR)]
    return checks


def certificate_checks(app: App) -> list[Check]:
    """The client certificate of every server (once per file)."""
    checks: list[Check] = []
    seen: set[Path | None] = set()
    for server in servers(app):
        if server.config.client_cert in seen and server.config.client_cert is not None:
            continue
        seen.add(server.config.client_cert)
        checks.extend(_client_certificate(server))
    return checks


# -- connecting ----------------------------------------------------------------------------------


def _failure(server: Server, error: TransportError) -> Check:
    """The failed connection check, with the fix an administrator needs."""
    name = f"connexion {server.label}"
    text = str(error)
    lowered = text.lower()
    key = server.key
    if isinstance(error, TLSConfigError) and "certificat du serveur" in lowered:
        fix = (f"indiquez dans {key}.ca_file la chaîne de l'autorité du serveur (IGC-Santé pour "
               f"MSSanté) et vérifiez que {key}.host est le nom inscrit dans son certificat")
    elif "certificat" in lowered:
        fix = (f"le certificat client n'est pas accepté : utilisez dans {key}.client_cert le "
               "certificat de la BAL applicative émis par l'IGC-Santé, valide, et rattaché à cette "
               "boîte chez l'opérateur MSSanté (ou renseignez user et password)")
    elif "mot de passe" in lowered or "identifiant" in lowered:
        variable = "MAILBOT_INBOUND_PASSWORD" if key == "inbound" else (
            "MAILBOT_OUTBOUND_PASSWORD" if key == "outbound" else
            f"MAILBOT_OUTBOUND_ROUTES_{key.partition('[')[2].rstrip(']')}_PASSWORD")
        fix = f"vérifiez {key}.user et le mot de passe ({key}.password ou la variable {variable})"
    elif "starttls" in lowered:
        port = 993 if server.protocol == "IMAP" else 465
        fix = f"essayez {key}.tls = \"implicit\" avec le port {port}"
    elif isinstance(error, TransportPermanentError | TLSConfigError):
        fix = f"corrigez la section [{key}] de la configuration"
    else:
        fix = (f"le serveur {server.where} ne répond pas : vérifiez {key}.host et {key}.port, le "
               "pare-feu (connexions sortantes vers ce port) et que le service est en marche")
    code = CONFIG_ERROR if isinstance(error, TransportPermanentError | TLSConfigError) else 1
    return Check(name, False, text, fix, exit_code=code)


def _server_certificate(server: Server, tls: ssl.SSLObject | None) -> list[Check]:
    name = f"certificat du serveur {server.label}"
    cfg = server.config
    if cfg.tls == "none" or tls is None:
        return [Check(name, False, f"connexion sans chiffrement (tls = \"{cfg.tls}\")",
                      f"{server.key}.tls = \"starttls\" ou \"implicit\" : MSSanté impose TLS 1.2 "
                      "au moins", warning=True)]
    der = tls.getpeercert(binary_form=True)
    if der is None:
        return [Check(name, False, "le serveur n'a présenté aucun certificat", "")]
    certificate = x509.load_der_x509_certificate(der)
    checks = [certificate_expiry(
        name, certificate, what=f"le certificat de {server.where}",
        fix="prévenez l'opérateur du serveur : son certificat doit être renouvelé")]
    if checks[0].ok:
        checks[0] = Check(name, True, f"{tls.version()}, {checks[0].detail}")
    if cfg.insecure:
        checks.append(Check(f"vérification TLS {server.label}", False,
                            "certificat du serveur NON vérifié (insecure = true)",
                            f"retirez {server.key}.insecure et indiquez {server.key}.ca_file : sans "
                            "vérification n'importe qui peut se faire passer pour le serveur",
                            warning=True))
    return checks


async def _connect(server: Server) -> list[Check]:
    """Connect, authenticate, look at the TLS session and (IMAP) the folders."""
    cfg = server.config.model_copy(
        update={"timeout_seconds": min(server.config.timeout_seconds, DOCTOR_TIMEOUT_SECONDS)})
    name = f"connexion {server.label}"
    checks: list[Check] = []
    if isinstance(cfg, ImapInboundConfig):
        from mailbot.transports.imap import ImapInbound

        imap = ImapInbound(cfg, None)  # no state file: the doctor changes nothing it keeps
        try:
            await asyncio.wait_for(imap.open(), DOCTOR_TIMEOUT_SECONDS * 2)
            checks.append(Check(name, True, f"{server.where} ({cfg.tls}), authentifié, dossier "
                                            f"« {cfg.folder} » ouvert"))
            checks.extend(_server_certificate(server, imap.tls_object))
            missing = await imap.missing_folders()
            folders = ", ".join(f"« {f} »" for f in filter(None, (
                cfg.folder, cfg.processed_folder, cfg.quarantine_folder)))
            checks.append(Check(
                f"dossiers {server.label}", not missing,
                f"absents : {', '.join(missing)}" if missing else f"{folders} présents",
                "créez-les dans le webmail de la boîte, ou donnez à la BAL le droit d'en créer "
                f"({server.key}.processed_folder, {server.key}.quarantine_folder)"))
        except TransportError as error:
            checks.append(_failure(server, error))
        except TimeoutError:
            checks.append(_failure(server, _timeout(server)))
        finally:
            await imap.close()
        return checks
    from mailbot.transports.smtp import SmtpOutbound

    smtp = SmtpOutbound(cfg)
    try:
        await asyncio.wait_for(smtp.open(), DOCTOR_TIMEOUT_SECONDS * 2)
        how = "sécurisée (données de santé permises)" if cfg.secure else (
            "non sécurisée (jamais de données de santé)")
        checks.append(Check(name, True, f"{server.where} ({cfg.tls}), authentifié ; voie {how}"))
        checks.extend(_server_certificate(server, smtp.tls_object))
    except TransportError as error:
        checks.append(_failure(server, error))
    except TimeoutError:
        checks.append(_failure(server, _timeout(server)))
    finally:
        await smtp.close()
    if cfg.secure and (cfg.tls == "none" or cfg.insecure):
        checks.append(Check(f"voie {server.label}", False,
                            "voie déclarée sécurisée (secure = true) sans TLS vérifié",
                            f"{server.key}.tls et {server.key}.ca_file, ou secure = false",
                            warning=True))
    return checks


def _timeout(server: Server) -> TransportError:
    return TransportTemporaryError(f"{server.protocol} {server.where} : pas de réponse en "
                                   f"{DOCTOR_TIMEOUT_SECONDS * 2:.0f} s")


def connection_checks(app: App) -> list[Check]:
    """Connect to every configured server at once; report in configuration order."""
    found = servers(app)
    if not found:
        return []

    async def run() -> list[list[Check]]:
        return list(await asyncio.gather(*(_connect(server) for server in found)))

    return [check for checks in asyncio.run(run()) for check in checks]


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


CHECKS: list[Callable[[App], list[Check]]] = [dns_checks, certificate_checks, connection_checks,
                                               state_checks, identity_checks]
