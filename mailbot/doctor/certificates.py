"""Certificates: the client certificate of each server (readable, matching its key, valid,
expiring in more than 30 days), and the expiry check shared with the servers' certificates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from mailbot.app import App
from mailbot.doctor.check import CONFIG_ERROR, Check
from mailbot.doctor.servers import Server, servers
from mailbot.errors import TLSConfigError
from mailbot.transports.tls import PKCS12_SUFFIXES, client_context

EXPIRY_WARNING_DAYS = 30


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
