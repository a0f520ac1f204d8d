"""Throw-away PKI for the test servers: a CA, server and client certificates.

Everything is written as PEM files into one folder so that both the real
servers (Dovecot reads files) and the transports under test (configured with
paths) can use them. A second, unrelated CA signs the *wrong* client
certificate used to check that a server refuses it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import load_pem_x509_certificate

#: Login name of the test mailbox; also the CN of the good client certificate.
TEST_USER = "bal-cpts"
TEST_PASSWORD = "s3cret-Mot-de-passe"
KEY_PASSWORD = "cle-privee"


@dataclass(frozen=True)
class Pki:
    """Paths of every PEM file, plus helpers to build server contexts."""

    folder: Path
    ca_cert: Path
    server_cert: Path       # certificate chain for 127.0.0.1 / localhost
    server_key: Path
    client_cert: Path       # CN = TEST_USER, signed by the test CA
    client_key: Path
    client_key_encrypted: Path  # same key, PEM encrypted with KEY_PASSWORD
    client_p12: Path        # PKCS#12 bundle (cert + key), password KEY_PASSWORD
    other_ca_cert: Path
    wrong_client_cert: Path  # CN = TEST_USER, signed by *another* CA
    wrong_client_key: Path

    def server_context(self, *, require_client_cert: bool) -> ssl.SSLContext:
        """A server-side context with our server cert, optionally requiring a client cert."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert, self.server_key)
        context.load_verify_locations(cafile=str(self.ca_cert))
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
        return context


def make_pki(folder: Path) -> Pki:
    """Create every certificate and key under ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="CPTS test CA")
    other = trustme.CA(organization_name="Autre AC")
    server = ca.issue_cert("127.0.0.1", "localhost", common_name="localhost")
    client = ca.issue_cert("bal-cpts@cpts.test", common_name=TEST_USER)
    wrong = other.issue_cert("bal-cpts@cpts.test", common_name=TEST_USER)

    def write(name: str, data: bytes) -> Path:
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o644)
        return path

    ca_cert = write("ca.pem", ca.cert_pem.bytes())
    other_ca = write("other-ca.pem", other.cert_pem.bytes())
    server_cert = write("server.pem", b"".join(blob.bytes() for blob in server.cert_chain_pems))
    server_key = write("server.key", server.private_key_pem.bytes())
    client_cert = write("client.pem", client.cert_chain_pems[0].bytes())
    client_key = write("client.key", client.private_key_pem.bytes())
    wrong_cert = write("wrong-client.pem", wrong.cert_chain_pems[0].bytes())
    wrong_key = write("wrong-client.key", wrong.private_key_pem.bytes())

    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    encryption = serialization.BestAvailableEncryption(KEY_PASSWORD.encode())
    encrypted = write("client-encrypted.key", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    certificate = load_pem_x509_certificate(client.cert_chain_pems[0].bytes())
    p12 = write("client.p12", pkcs12.serialize_key_and_certificates(
        TEST_USER.encode(), key, certificate, None, encryption))  # type: ignore[arg-type]
    return Pki(folder=folder, ca_cert=ca_cert, server_cert=server_cert, server_key=server_key,
               client_cert=client_cert, client_key=client_key, client_key_encrypted=encrypted,
               client_p12=p12, other_ca_cert=other_ca, wrong_client_cert=wrong_cert,
               wrong_client_key=wrong_key)
