"""``mailbot doctor`` against the real servers: DNS, certificates, IMAP login and folders, SMTP routes.

The command line runs in-process (``mailbot.cli.main``): same code path as the
``mailbot`` command, without a second of interpreter start-up per call.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import trustme
from cryptography import x509

from mailbot.cli import main
from mailbot.doctor.certificates import EXPIRY_WARNING_DAYS, certificate_expiry
from tests.servers.dovecot import DovecotServer, free_port
from tests.servers.pki import TEST_USER, Pki
from tests.servers.smtp import SmtpServer
from tests.test_imap_smtp_e2e import make_bot, mssante_route, sections


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``mailbot --config … doctor``; return the exit code and what it printed."""
    code = main(["--config", str(config), "doctor"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


@pytest.fixture
def sqlite_section(tmp_path: Path) -> dict[str, str]:
    """A SQLite database of this test."""
    return {"url": f"sqlite:///{tmp_path / 'var' / 'mailbot.db'}"}


def test_doctor_connects_to_every_server_and_finds_all_well(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    provider = SmtpServer(pki, require_client_cert=False)
    provider.start()
    try:
        config = sections(sqlite_section, dovecot, pki, smtp_server, provider)
        config["outbound"]["host"] = "localhost"  # a name to resolve
        bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
        code, out = doctor(bot.config_path, capsys)
    finally:
        provider.stop()
    assert code == 0, out
    assert "Tout est en ordre." in out and "[ERREUR]" not in out
    lines = out.splitlines()

    def line(start: str) -> str:
        found = [text for text in lines if text.startswith(start)]
        assert len(found) == 1, (start, out)
        return found[0]

    assert "127.0.0.1 est une adresse IP" in line("[OK ] DNS réception IMAP")
    assert "localhost → 127.0.0.1" in line("[OK ] DNS envoi SMTP (voie par défaut)")
    cert = line("[OK ] certificat client réception IMAP")
    assert f"CN={TEST_USER}" in cert and "valide jusqu'au" in cert
    assert "aucun (authentification par identifiant" in line(
        "[OK ] certificat client envoi SMTP (voie par défaut)")
    assert f"{dovecot.imaps_port} (implicit), authentifié" in line("[OK ] connexion réception IMAP")
    assert "TLSv1." in line("[OK ] certificat du serveur réception IMAP")
    assert "« INBOX », « Traites », « Quarantaine » présents" in line(
        "[OK ] dossiers réception IMAP")
    assert "voie non sécurisée" in line("[OK ] connexion envoi SMTP (voie par défaut)")
    assert "voie sécurisée" in line("[OK ] connexion envoi SMTP (voie 1 : mssante.fr, *.mssante.fr)")
    assert "NIL-TEST-0001" in line("[OK ] numéro d'enregistrement MSSanté")
    assert str(tmp_path / "imap-state.json") in line("[OK ] fichier d'état IMAP")
    # Missing folders were created, as the daemon would.
    assert dovecot.maildir("Traites").is_dir() and dovecot.maildir("Quarantaine").is_dir()


def _expired_certificate(pki: Pki, tmp_path: Path) -> tuple[Path, Path]:
    ca = trustme.CA()
    now = dt.datetime.now(dt.UTC)
    leaf = ca.issue_cert("bal-cpts@cpts.test", common_name=TEST_USER,
                         not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=3))
    cert, key = tmp_path / "expired.pem", tmp_path / "expired.key"
    cert.write_bytes(leaf.cert_chain_pems[0].bytes())
    key.write_bytes(leaf.private_key_pem.bytes())
    return cert, key


@pytest.mark.parametrize("which", ["wrong", "expired"])
def test_doctor_wrong_client_certificate_exits_2_with_a_clear_message(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str], which: str) -> None:
    if which == "wrong":  # issued by another authority: the servers refuse it
        cert, key = pki.wrong_client_cert, pki.wrong_client_key
    else:
        cert, key = _expired_certificate(pki, tmp_path)
    config = sections(sqlite_section, dovecot, pki, smtp_server, smtp_server,
                      client_cert=str(cert), client_key=str(key))
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki, client_cert=str(cert),
                                                    client_key=str(key))])
    code, out = doctor(bot.config_path, capsys)
    assert code == 2, out
    errors = [text for text in out.splitlines() if text.startswith("[ERREUR]")]
    if which == "wrong":
        imap = next(t for t in errors if t.startswith("[ERREUR] connexion réception IMAP"))
        assert "certificat client" in imap and "wrong-client.pem" in imap
        smtp = next(t for t in errors if t.startswith("[ERREUR] connexion envoi SMTP (voie 1"))
        assert "refusé le certificat client" in smtp and "UNKNOWN_CA" in smtp
        assert "IGC-Santé" in out  # the fix says which certificate is expected
    else:
        assert any(t.startswith("[ERREUR] certificat client réception IMAP") and "expiré depuis le"
                   in t for t in errors), out
        assert "renouvelez le certificat" in out
    assert "problème(s) à corriger" in out


def test_doctor_unknown_host_and_closed_port_exit_1(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    config = sections(sqlite_section, dovecot, pki, smtp_server, smtp_server,
                      host="imap.cpts-exemple.invalid")
    config["outbound"]["port"] = free_port()  # nothing listens there
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    code, out = doctor(bot.config_path, capsys)
    assert code == 1, out
    assert "[ERREUR] DNS réception IMAP : le nom « imap.cpts-exemple.invalid » ne se résout pas" in out
    assert "vérifiez la clé inbound.host" in out
    closed = next(t for t in out.splitlines()
                  if t.startswith("[ERREUR] connexion envoi SMTP (voie par défaut)"))
    assert "connexion impossible" in closed
    assert "vérifiez outbound.host et outbound.port" in out
    assert "[OK ] connexion envoi SMTP (voie 1" in out


def test_certificate_expiry_warns_within_30_days_and_fails_once_expired() -> None:
    ca = trustme.CA()
    now = dt.datetime.now(dt.UTC)

    def certificate(days_left: float) -> x509.Certificate:
        leaf = ca.issue_cert("x@cpts.test", common_name="bal",
                             not_before=now - dt.timedelta(days=300),
                             not_after=now + dt.timedelta(days=days_left))
        return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())

    ok = certificate_expiry("c", certificate(EXPIRY_WARNING_DAYS + 5), what="le certificat", fix="f")
    assert ok.ok and "valide jusqu'au" in ok.detail
    soon = certificate_expiry("c", certificate(10.5), what="le certificat", fix="renouveler")
    assert (soon.ok, soon.warning, soon.exit_code) == (False, True, 1)
    assert "expire dans 10 jour(s)" in soon.detail and soon.fix == "renouveler"
    gone = certificate_expiry("c", certificate(-1), what="le certificat", fix="f")
    assert (gone.ok, gone.warning, gone.exit_code) == (False, False, 2)
    assert "expiré depuis le" in gone.detail
