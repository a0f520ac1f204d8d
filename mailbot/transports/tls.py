"""Client-side TLS for the IMAP and SMTP transports.

MSSanté requires TLS ≥ 1.2, a server certificate from the IGC-Santé and, for an
application mailbox (BAL applicative), a client certificate. :func:`client_context`
turns the transport settings into an :class:`ssl.SSLContext`; every problem with
the files becomes a :class:`~mailbot.errors.TLSConfigError` naming the file, in
French, before any connection is attempted. :func:`classify_tls_failure` turns a
handshake failure seen later into an error an administrator can act on.
"""

from __future__ import annotations

import logging
import os
import secrets
import ssl
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mailbot.errors import TLSConfigError, TransportError, TransportPermanentError

log = logging.getLogger(__name__)

PKCS12_SUFFIXES = (".p12", ".pfx")

# OpenSSL alert names meaning "the server did not accept our client certificate".
_REFUSED_CERT_ALERTS = (
    "UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_REQUIRED", "CERTIFICATE_UNKNOWN",
    "UNSUPPORTED_CERTIFICATE", "CERTIFICATE_EXPIRED", "CERTIFICATE_REVOKED", "ACCESS_DENIED",
    "HANDSHAKE_FAILURE",
)


class TlsSettings(Protocol):
    """The TLS fields shared by ``ImapInboundConfig`` and ``SmtpRouteConfig``."""

    @property
    def host(self) -> str: ...
    @property
    def client_cert(self) -> Path | None: ...
    @property
    def client_key(self) -> Path | None: ...
    @property
    def client_key_password(self) -> str | None: ...
    @property
    def ca_file(self) -> Path | None: ...
    @property
    def insecure(self) -> bool: ...


def client_context(settings: TlsSettings) -> ssl.SSLContext:
    """Build the client context: TLS ≥ 1.2, verification on, optional client certificate.

    With ``ca_file`` only the authorities in that file are trusted (pinning the
    IGC-Santé chain); without it the system store is used. ``insecure`` turns off
    every verification and is logged as a warning on each call.
    """
    cadata = _read_ca(settings.ca_file) if settings.ca_file is not None else None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=cadata)
    except (ssl.SSLError, ValueError) as error:
        raise TLSConfigError(
            f"fichier des autorités de certification (ca_file) {settings.ca_file} invalide : "
            f"{_reason(error)}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert is not None:
        _load_client_cert(context, settings)
    elif settings.client_key is not None:
        raise TLSConfigError(
            f"clé privée {settings.client_key} indiquée sans certificat client (client_cert)")
    if settings.insecure:
        log.warning(
            "TLS SANS VÉRIFICATION du certificat du serveur %s (insecure = true) : "
            "n'importe qui peut se faire passer pour ce serveur ; réservé aux tests",
            settings.host)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TLSConfigError(f"{what} introuvable : {path}") from None
    except IsADirectoryError:
        raise TLSConfigError(f"{what} : {path} est un dossier, pas un fichier") from None
    except OSError as error:
        raise TLSConfigError(f"{what} illisible : {path} ({error.strerror})") from None


def _read_ca(path: Path) -> str:
    data = _read(path, "fichier des autorités de certification (ca_file)")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise TLSConfigError(
            f"fichier des autorités de certification (ca_file) {path} : aucun certificat PEM "
            "(« -----BEGIN CERTIFICATE----- ») trouvé")
    return data.decode("ascii", errors="replace")


def _load_client_cert(context: ssl.SSLContext, settings: TlsSettings) -> None:
    cert = settings.client_cert
    assert cert is not None
    if cert.suffix.lower() in PKCS12_SUFFIXES:
        _load_pkcs12(context, cert, settings.client_key_password)
        return
    cert_data = _read(cert, "certificat client (client_cert)")
    if b"-----BEGIN CERTIFICATE-----" not in cert_data:
        raise TLSConfigError(
            f"certificat client {cert} : pas de certificat PEM (pour un fichier PKCS#12, "
            "utilisez l'extension .p12 ou .pfx)")
    key = settings.client_key or cert
    key_data = cert_data if key == cert else _read(key, "clé privée du certificat client (client_key)")
    if b"PRIVATE KEY-----" not in key_data:
        raise TLSConfigError(f"clé privée {key} : aucune clé PEM (« -----BEGIN … PRIVATE KEY----- ») trouvée")
    password = settings.client_key_password
    if password is None and b"ENCRYPTED" in key_data:
        raise TLSConfigError(f"clé privée {key} chiffrée : indiquez son mot de passe (client_key_password)")
    _check_expiry(cert_data, cert)
    try:
        # A callable, so OpenSSL never prompts on the terminal for a pass phrase.
        context.load_cert_chain(str(cert), str(key), password=lambda: (password or "").encode())
    except ssl.SSLError as error:
        reason = _reason(error)
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise TLSConfigError(
                f"la clé privée {key} ne correspond pas au certificat client {cert}") from None
        if b"ENCRYPTED" in key_data:
            raise TLSConfigError(
                f"mot de passe de la clé privée {key} incorrect (client_key_password)") from None
        raise TLSConfigError(
            f"certificat client {cert} ou clé {key} inutilisable : {reason}") from None


def _load_pkcs12(context: ssl.SSLContext, path: Path, password: str | None) -> None:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError:
        raise TLSConfigError(
            f"certificat client {path} au format PKCS#12 : installez le paquet Python "
            "« cryptography », ou convertissez-le en PEM (openssl pkcs12 -in FICHIER.p12 "
            "-out cert.pem -clcerts -nokeys ; openssl pkcs12 -in FICHIER.p12 -out cle.pem -nocerts)"
        ) from None
    data = _read(path, "certificat client PKCS#12 (client_cert)")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, password.encode() if password is not None else None)
    except ValueError:
        raise TLSConfigError(
            f"certificat client PKCS#12 {path} illisible ou mot de passe (client_key_password) "
            "incorrect") from None
    if key is None or cert is None:
        raise TLSConfigError(f"certificat client PKCS#12 {path} : il doit contenir le certificat et sa clé")
    chain = cert.public_bytes(serialization.Encoding.PEM) + b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in extra)
    _check_expiry(chain, path)
    # ssl only loads keys from files: write them re-encrypted with a one-time password
    # into a private folder, load, and delete at once.
    once = secrets.token_urlsafe(24)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(once.encode()))
    with tempfile.TemporaryDirectory(prefix="mailbot-p12-") as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        for file, content in ((cert_file, chain), (key_file, key_pem)):
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
        try:
            context.load_cert_chain(str(cert_file), str(key_file), password=once)
        except ssl.SSLError as error:
            raise TLSConfigError(f"certificat client PKCS#12 {path} inutilisable : {_reason(error)}") from None


def _check_expiry(pem: bytes, path: Path) -> None:
    """Refuse an expired client certificate; warn when it expires within 30 days."""
    try:
        from cryptography.x509 import load_pem_x509_certificate
    except ImportError:  # pragma: no cover - cryptography is normally there
        return
    try:
        certificate = load_pem_x509_certificate(pem)
    except ValueError:
        raise TLSConfigError(f"certificat client {path} : PEM illisible") from None
    now = datetime.now(UTC)
    end = certificate.not_valid_after_utc
    if end < now:
        raise TLSConfigError(f"certificat client {path} expiré depuis le {end:%d/%m/%Y}")
    if certificate.not_valid_before_utc > now:
        raise TLSConfigError(
            f"certificat client {path} pas encore valide (à partir du {certificate.not_valid_before_utc:%d/%m/%Y})")
    days = (end - now).days
    if days < 30:
        log.warning("le certificat client %s expire dans %d jour(s), le %s", path, days, f"{end:%d/%m/%Y}")


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error.strerror or error)
    return str(error)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify_tls_failure(error: BaseException, settings: TlsSettings, port: int | None,
                         protocol: str) -> TransportError | None:
    """Translate a TLS handshake failure into an actionable error, or ``None`` if it is not one.

    A server certificate that does not verify → :class:`TLSConfigError` (wrong
    ``ca_file`` or host name); a client certificate refused by the server →
    :class:`TransportPermanentError`. Both messages are in French and name the file.
    """
    where = f"{protocol} {settings.host}:{port}"
    for item in _chain(error):
        if isinstance(item, ssl.SSLCertVerificationError):
            ca = settings.ca_file or "magasin du système"
            return TLSConfigError(
                f"{where} : certificat du serveur non vérifié ({item.verify_message}) ; "
                f"vérifiez l'autorité de certification (ca_file : {ca}) et le nom du serveur")
        text = f"{getattr(item, 'reason', '') or ''} {item}".upper()
        if isinstance(item, ssl.SSLError) and any(alert in text for alert in _REFUSED_CERT_ALERTS):
            cert = settings.client_cert or "aucun (client_cert non renseigné)"
            return TransportPermanentError(
                f"{where} : le serveur a refusé le certificat client {cert} "
                f"({_reason(item)}) ; vérifiez qu'il est émis par l'autorité attendue "
                "(IGC-Santé) et qu'il est valide")
    return None
