"""SmtpOutbound against a real aiosmtpd server that requires a client certificate."""

from __future__ import annotations

import logging

import pytest

from mailbot.errors import TransportPermanentError, TransportTemporaryError
from mailbot.transports.base import OutboundTransport
from mailbot.transports.smtp import SmtpOutbound
from tests.servers.dovecot import free_port
from tests.servers.mute import mute_server
from tests.servers.pki import TEST_USER, Pki
from tests.servers.smtp import SmtpServer
from tests.transports.mailgen import make_mail, smtp_config

SENDER = "liste-attente@cpts.mssante.fr"
DOCTORS = ["dr.a@medecin.mssante.fr", "dr.b@medecin.mssante.fr", "dr.c@medecin.mssante.fr"]


@pytest.mark.parametrize(("tls", "external", "identity"), [
    ("implicit", True, f"EXTERNAL:{TEST_USER}"), ("starttls", True, f"EXTERNAL:{TEST_USER}"),
    ("implicit", False, TEST_USER), ("starttls", False, TEST_USER),
], ids=["implicit-external", "starttls-external", "implicit-password", "starttls-password"])
async def test_sends_with_client_certificate(smtp_server: SmtpServer, pki: Pki, tls: str,
                                             external: bool, identity: str) -> None:
    # Certificate and password configured: SASL EXTERNAL when offered, else the password.
    smtp_server.handler.offer_external = external
    outbound = SmtpOutbound(smtp_config(smtp_server, pki, tls=tls))
    assert isinstance(outbound, OutboundTransport)
    raw = make_mail()
    try:
        report = await outbound.send(SENDER, DOCTORS[:2], raw)
    finally:
        await outbound.close()
        await outbound.close()
    assert report.complete and report.accepted == DOCTORS[:2]
    (received,) = smtp_server.messages
    assert received.sender == SENDER and received.recipients == DOCTORS[:2]
    assert received.raw == raw and received.auth == identity


async def test_missing_client_certificate_is_refused(smtp_server: SmtpServer, pki: Pki) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki, client_cert=None, client_key=None))
    with pytest.raises(TransportPermanentError, match="refusé le certificat client aucun"):
        await outbound.open()  # the server requires a certificate at the TLS level


async def test_wrong_password_is_permanent(smtp_server: SmtpServer, pki: Pki) -> None:
    smtp_server.handler.offer_external = False
    outbound = SmtpOutbound(smtp_config(smtp_server, pki, password="faux"))
    with pytest.raises(TransportPermanentError, match=r"identifiant et mot de passe refusée .*535"):
        await outbound.open()


async def test_connection_is_reused_then_renewed(smtp_server: SmtpServer, pki: Pki) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki, max_messages_per_connection=2))
    try:
        for _ in range(5):
            assert (await outbound.send(SENDER, DOCTORS[:1], make_mail())).complete
    finally:
        await outbound.close()
    assert len(smtp_server.messages) == 5
    assert smtp_server.handler.connections == 3 == outbound.connections_opened


async def test_reconnects_when_the_server_closed_an_idle_connection(
        smtp_server: SmtpServer, pki: Pki) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    try:
        assert (await outbound.send(SENDER, DOCTORS[:1], make_mail())).complete
        smtp_server.handler.fail_next("421 4.4.2 Délai d'inactivité dépassé", stage="MAIL")
        assert (await outbound.send(SENDER, DOCTORS[:1], make_mail())).complete
    finally:
        await outbound.close()
    assert len(smtp_server.messages) == 2 and smtp_server.handler.connections == 2


@pytest.mark.parametrize(("stage", "answer"), [("MAIL", "451 4.3.0 Réessayez plus tard"),
                                               ("DATA", "451 4.3.0 Réessayez plus tard"),
                                               ("RCPT", "452 4.2.2 Boîte pleine")])
async def test_4xx_is_temporary_then_accepted(smtp_server: SmtpServer, pki: Pki, stage: str,
                                              answer: str) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    smtp_server.handler.fail_next(answer, stage=stage)
    raw = make_mail()
    try:
        first = await outbound.send(SENDER, DOCTORS[:1], raw)
        assert first.temporary == {DOCTORS[0]: answer} and not first.accepted
        second = await outbound.send(SENDER, DOCTORS[:1], raw)
    finally:
        await outbound.close()
    assert second.complete and [m.raw for m in smtp_server.messages] == [raw]
    assert smtp_server.handler.connections == 1


async def test_421_on_a_fresh_connection_is_a_temporary_error(smtp_server: SmtpServer,
                                                               pki: Pki) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    smtp_server.handler.fail_next("421 4.3.2 Service indisponible", stage="MAIL")
    try:
        with pytest.raises(TransportTemporaryError, match="421"):
            await outbound.send(SENDER, DOCTORS[:1], make_mail())
        assert not outbound.connected
        assert (await outbound.send(SENDER, DOCTORS[:1], make_mail())).complete
    finally:
        await outbound.close()
    assert len(smtp_server.messages) == 1


async def test_one_recipient_refused_among_several(smtp_server: SmtpServer, pki: Pki) -> None:
    smtp_server.handler.refuse_recipient(DOCTORS[1], "550 5.1.1 Boîte inconnue")
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    try:
        report = await outbound.send(SENDER, DOCTORS, make_mail())
    finally:
        await outbound.close()
    assert report.accepted == [DOCTORS[0], DOCTORS[2]]
    assert report.permanent == {DOCTORS[1]: "550 5.1.1 Boîte inconnue"}
    assert not report.temporary and not report.complete
    assert smtp_server.messages[0].recipients == [DOCTORS[0], DOCTORS[2]]


async def test_every_recipient_refused_is_reported_not_raised(smtp_server: SmtpServer,
                                                              pki: Pki) -> None:
    smtp_server.handler.refuse_recipient(DOCTORS[0], "550 5.1.1 Boîte inconnue")
    smtp_server.handler.refuse_recipient(DOCTORS[1], "450 4.2.1 Boîte indisponible")
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    try:
        report = await outbound.send(SENDER, DOCTORS[:2], make_mail())
        assert (await outbound.send(SENDER, DOCTORS[2:], make_mail())).complete  # session still fine
    finally:
        await outbound.close()
    assert report.permanent == {DOCTORS[0]: "550 5.1.1 Boîte inconnue"}
    assert report.temporary == {DOCTORS[1]: "450 4.2.1 Boîte indisponible"}
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
async def test_wrong_client_certificate_is_refused_in_french(smtp_server: SmtpServer, pki: Pki,
                                                             tls: str) -> None:
    config = smtp_config(smtp_server, pki, tls=tls, client_cert=pki.wrong_client_cert,
                         client_key=pki.wrong_client_key)
    outbound = SmtpOutbound(config)
    with pytest.raises(TransportPermanentError,
                       match=r"le serveur a refusé le certificat client .*wrong-client.pem"):
        await outbound.send(SENDER, DOCTORS[:1], make_mail())
    assert smtp_server.messages == []


async def test_refused_certificate_authentication_is_permanent(smtp_server: SmtpServer,
                                                               pki: Pki) -> None:
    smtp_server.handler.accept_external = False
    outbound = SmtpOutbound(smtp_config(smtp_server, pki, with_password=False))
    with pytest.raises(TransportPermanentError, match=r"authentification par certificat .* refusée"):
        await outbound.open()


async def test_nothing_listening_is_temporary(smtp_server: SmtpServer, pki: Pki) -> None:
    outbound = SmtpOutbound(smtp_config(smtp_server, pki).model_copy(update={"port": free_port()}))
    with pytest.raises(TransportTemporaryError, match="connexion impossible"):
        await outbound.send(SENDER, DOCTORS[:1], make_mail())


async def test_silent_server_times_out_as_temporary(smtp_server: SmtpServer, pki: Pki) -> None:
    async with mute_server() as port:
        config = smtp_config(smtp_server, pki, tls="starttls", timeout_seconds=0.3)
        outbound = SmtpOutbound(config.model_copy(update={"port": port}))
        with pytest.raises(TransportTemporaryError, match="connexion impossible"):
            await outbound.send(SENDER, DOCTORS[:1], make_mail())


async def test_logs_carry_no_address_or_content(smtp_server: SmtpServer, pki: Pki,
                                                caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.handler.refuse_recipient(DOCTORS[1], f"550 5.1.1 <{DOCTORS[1]}> inconnu")
    outbound = SmtpOutbound(smtp_config(smtp_server, pki))
    with caplog.at_level(logging.DEBUG):
        try:
            await outbound.send(SENDER, DOCTORS, make_mail("Patient Dupont"))
        finally:
            await outbound.close()
    client_side = "\n".join(r.getMessage() for r in caplog.records
                            if r.name != "mail.log")  # "mail.log" is the test server, aiosmtpd
    assert "550" in client_side
    for forbidden in ("Dupont", "Bonjour", "s3cret", "@"):
        assert forbidden not in client_side
