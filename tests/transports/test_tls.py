"""client_context: certificates and keys in every accepted form, and clear French errors."""

from __future__ import annotations

import datetime
import logging
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme

from mailbot.config import ImapInboundConfig
from mailbot.errors import TLSConfigError
from mailbot.transports.tls import client_context
from tests.servers.pki import KEY_PASSWORD, Pki


def settings(pki: Pki, **fields: Any) -> ImapInboundConfig:
    base: dict[str, Any] = {"transport": "imap", "host": "imap.exemple.mssante.fr",
                            "ca_file": pki.ca_cert, "client_cert": pki.client_cert,
                            "client_key": pki.client_key}
    base.update(fields)
    return ImapInboundConfig.model_validate(base)


def test_pem_certificate_and_key(pki: Pki) -> None:
    context = client_context(settings(pki))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1  # only the configured CA is trusted


def test_without_client_certificate_or_ca_uses_system_store(pki: Pki) -> None:
    context = client_context(settings(pki, client_cert=None, client_key=None, ca_file=None))
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_encrypted_key_with_its_password(pki: Pki) -> None:
    client_context(settings(pki, client_key=pki.client_key_encrypted,
                            client_key_password=KEY_PASSWORD))


def test_encrypted_key_without_password(pki: Pki) -> None:
    with pytest.raises(TLSConfigError, match=r"clé privée .*client-encrypted\.key chiffrée"):
        client_context(settings(pki, client_key=pki.client_key_encrypted))


def test_encrypted_key_with_wrong_password(pki: Pki) -> None:
    with pytest.raises(TLSConfigError, match=r"mot de passe de la clé privée .*client-encrypted\.key"):
        client_context(settings(pki, client_key=pki.client_key_encrypted, client_key_password="faux"))


def test_pkcs12_bundle(pki: Pki) -> None:
    context = client_context(settings(pki, client_cert=pki.client_p12, client_key=None,
                                      client_key_password=KEY_PASSWORD))
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_pkcs12_wrong_password(pki: Pki) -> None:
    with pytest.raises(TLSConfigError, match=r"PKCS#12 .*client\.p12"):
        client_context(settings(pki, client_cert=pki.client_p12, client_key=None,
                                client_key_password="faux"))


def test_pkcs12_without_cryptography_says_what_to_do(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    # The only way to see this branch without uninstalling a package: hide the module.
    for name in ("cryptography.hazmat.primitives", "cryptography.hazmat.primitives.serialization",
                 "cryptography.hazmat.primitives.serialization.pkcs12"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(TLSConfigError, match="installez le paquet Python « cryptography »"):
        client_context(settings(pki, client_cert=pki.client_p12, client_key=None,
                                client_key_password=KEY_PASSWORD))


def test_key_of_another_certificate(pki: Pki) -> None:
    with pytest.raises(TLSConfigError,
                       match=r"clé privée .*wrong-client\.key ne correspond pas au certificat client .*client\.pem"):
        client_context(settings(pki, client_key=pki.wrong_client_key))


def test_missing_certificate_file(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "absent.pem"
    with pytest.raises(TLSConfigError, match=f"certificat client \\(client_cert\\) introuvable : {missing}"):
        client_context(settings(pki, client_cert=missing))


def test_unreadable_key_file(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TLSConfigError, match=f"{tmp_path} est un dossier"):
        client_context(settings(pki, client_key=tmp_path))


def test_ca_file_without_certificate(pki: Pki, tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("ceci n'est pas un certificat\n")
    with pytest.raises(TLSConfigError, match=r"ca_file\) .*ca\.pem : aucun certificat PEM"):
        client_context(settings(pki, ca_file=bogus))


def test_key_without_certificate(pki: Pki) -> None:
    with pytest.raises(TLSConfigError, match="sans certificat client"):
        client_context(settings(pki, client_cert=None))


def test_expired_certificate(pki: Pki, tmp_path: Path) -> None:
    ca = trustme.CA()
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    leaf = ca.issue_cert("bal@cpts.test", not_before=past, not_after=past + datetime.timedelta(days=30))
    cert, key = tmp_path / "old.pem", tmp_path / "old.key"
    cert.write_bytes(leaf.cert_chain_pems[0].bytes())
    key.write_bytes(leaf.private_key_pem.bytes())
    with pytest.raises(TLSConfigError, match=r"old\.pem expiré depuis le 31/01/2020"):
        client_context(settings(pki, client_cert=cert, client_key=key))


def test_insecure_disables_verification_loudly(pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mailbot.transports.tls"):
        context = client_context(settings(pki, insecure=True))
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert "SANS VÉRIFICATION" in caplog.text and "imap.exemple.mssante.fr" in caplog.text
