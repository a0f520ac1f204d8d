"""A real connection to each server: TLS, the server's certificate, login, IMAP folders.

A configuration error (a client certificate refused by the server, a refused
login, an untrusted server certificate) exits 2; a server that cannot be
reached exits 1. Connections run concurrently (``asyncio.run``), each bounded
by ``DOCTOR_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import ssl

from cryptography import x509

from mailbot.app import App
from mailbot.config import ImapInboundConfig
from mailbot.doctor.certificates import certificate_expiry
from mailbot.doctor.check import CONFIG_ERROR, Check
from mailbot.doctor.servers import DOCTOR_TIMEOUT_SECONDS, Server, servers
from mailbot.errors import (
    TLSConfigError,
    TransportError,
    TransportPermanentError,
    TransportTemporaryError,
)
from mailbot.transports.imap import ImapInbound
from mailbot.transports.smtp import SmtpOutbound


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
