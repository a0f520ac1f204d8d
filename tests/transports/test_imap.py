"""ImapInbound against a real Dovecot (IMAPS and STARTTLS, password and client certificate)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from mailbot.errors import TLSConfigError, TransportPermanentError, TransportTemporaryError
from mailbot.transports.backoff import reconnect_with_backoff
from mailbot.transports.base import InboundTransport
from mailbot.transports.imap import ImapInbound, OversizedMail
from tests.servers.dovecot import DovecotServer, free_port
from tests.servers.mute import mute_server
from tests.servers.pki import Pki
from tests.servers.proxy import CuttingProxy
from tests.transports.mailgen import imap_config, make_mail


@pytest.mark.parametrize(("tls", "auth"), [("implicit", "password"), ("implicit", "cert"),
                                           ("starttls", "password"), ("starttls", "cert")])
async def test_reads_pending_mail_without_marking_it_seen(
        dovecot: DovecotServer, pki: Pki, tmp_path: Path, tls: str, auth: str) -> None:
    first, second = make_mail("un"), make_mail("deux")
    dovecot.deliver(first)
    dovecot.deliver(second)
    inbound = ImapInbound(imap_config(dovecot, pki, tls=tls, auth=auth), tmp_path / "state.json")
    assert isinstance(inbound, InboundTransport)
    await inbound.open()
    try:
        mails = await inbound.fetch()
        assert [m.raw for m in mails] == [first, second]
        assert [m.key for m in mails] == [f"{inbound.uidvalidity}:1", f"{inbound.uidvalidity}:2"]
        assert [m.raw for m in await inbound.fetch(limit=1)] == [first]
        if auth == "cert":
            assert "AUTH=EXTERNAL" not in inbound.capabilities  # post-login capabilities
    finally:
        await inbound.close()
        await inbound.close()  # twice is fine
    assert all("S" not in flags for flags in dovecot.flags())
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["uidvalidity"] == inbound.uidvalidity and state["last_uid"] == 2
    assert re.search(rf"user=<{dovecot.user}>, method={'EXTERNAL' if auth == 'cert' else 'PLAIN|LOGIN'}",
                     dovecot.log_tail(50))


@pytest.mark.parametrize("use_move", [None, False], ids=["move", "copy-expunge"])
async def test_set_aside_moves_to_processed_and_quarantine(
        dovecot: DovecotServer, pki: Pki, use_move: bool | None) -> None:
    for subject in ("a", "b", "c"):
        dovecot.deliver(make_mail(subject))
    inbound = ImapInbound(imap_config(dovecot, pki), use_move=use_move)
    await inbound.open()
    try:
        assert ("MOVE" in inbound.capabilities) is True
        a, b, c = await inbound.fetch()
        await inbound.set_aside(a.key)
        await inbound.set_aside(b.key, quarantine=True)
        await inbound.set_aside(a.key)  # already moved: harmless
        assert [m.key for m in await inbound.fetch()] == [c.key]
    finally:
        await inbound.close()
    assert dovecot.messages("INBOX") == [c.raw]
    assert dovecot.messages("Traites") == [a.raw]
    assert dovecot.messages("Quarantaine") == [b.raw]
    assert dovecot.messages("INBOX", include_deleted=True) == [c.raw]  # expunged, not just flagged
    assert ["S" in flags for flags in dovecot.flags("Traites")] == [True]  # read once handled


async def test_set_aside_without_folder_only_flags(dovecot: DovecotServer, pki: Pki) -> None:
    dovecot.deliver(make_mail())
    inbound = ImapInbound(imap_config(dovecot, pki, processed_folder=None, quarantine_folder=None))
    await inbound.open()
    try:
        (mail,) = await inbound.fetch()
        await inbound.set_aside(mail.key)
        assert await inbound.fetch() == []
    finally:
        await inbound.close()
    assert dovecot.messages("INBOX") == [mail.raw]
    assert not dovecot.maildir("Traites").exists()


async def test_non_ascii_folder_is_created_in_modified_utf7(dovecot: DovecotServer, pki: Pki) -> None:
    dovecot.deliver(make_mail())
    inbound = ImapInbound(imap_config(dovecot, pki, processed_folder="Traités"))
    await inbound.open()
    try:
        (mail,) = await inbound.fetch()
        await inbound.set_aside(mail.key)
    finally:
        await inbound.close()
    assert dovecot.messages("Trait&AOk-s") == [mail.raw]


async def test_uidvalidity_change_gives_new_keys(dovecot: DovecotServer, pki: Pki, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    state = tmp_path / "state.json"
    raw = make_mail()
    dovecot.deliver(raw)
    inbound = ImapInbound(imap_config(dovecot, pki), state)
    await inbound.open()
    (before,) = await inbound.fetch()
    await inbound.close()

    dovecot.set_uidvalidity(4242)
    inbound = ImapInbound(imap_config(dovecot, pki), state)  # a restarted daemon
    assert inbound.last_uid == 1
    await inbound.open()
    try:
        (after,) = await inbound.fetch()
        assert after.raw == before.raw and after.key == "4242:1" != before.key
        assert "UIDVALIDITY" in caplog.text
        await inbound.set_aside(before.key)  # stale key: logged, nothing done
        assert [m.key for m in await inbound.fetch()] == ["4242:1"]
        await inbound.set_aside(after.key)
        assert await inbound.fetch() == []
    finally:
        await inbound.close()
    assert json.loads(state.read_text())["uidvalidity"] == 4242


async def test_connection_cut_during_fetch_then_reconnect(
        dovecot: DovecotServer, pki: Pki,
        cutting_proxy: Callable[[int], Awaitable[CuttingProxy]]) -> None:
    big = make_mail(body_size=300_000)
    dovecot.deliver(big)
    proxy = await cutting_proxy(dovecot.imaps_port)
    # The certificate names 127.0.0.1, which the proxy also listens on.
    inbound = ImapInbound(imap_config(dovecot, pki, port=proxy.port))
    await inbound.open()
    try:
        proxy.cut_after(50_000)
        started = time.monotonic()
        with pytest.raises(TransportTemporaryError, match="interrompu"):
            await inbound.fetch()
        assert time.monotonic() - started < 3  # failed at once, not at the command timeout
        assert proxy.cuts == 1 and not inbound.connected
        await reconnect_with_backoff(inbound.open, base=0.01, max_attempts=3)
        (mail,) = await inbound.fetch()
        assert mail.raw == big
    finally:
        await inbound.close()


async def test_server_restart_then_reconnect_with_backoff(dovecot: DovecotServer, pki: Pki) -> None:
    dovecot.deliver(make_mail("avant"))
    inbound = ImapInbound(imap_config(dovecot, pki))
    await inbound.open()
    try:
        assert len(await inbound.fetch()) == 1
        await asyncio.to_thread(dovecot.stop)
        with pytest.raises(TransportTemporaryError):
            await inbound.fetch()
        with pytest.raises(TransportTemporaryError, match="connexion impossible"):
            await inbound.open()

        async def restart_later() -> None:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(dovecot.start)

        restart = asyncio.create_task(restart_later())
        await reconnect_with_backoff(inbound.open, base=0.05, cap=0.2, max_attempts=50)
        await restart
        dovecot.deliver(make_mail("après"))
        assert len(await inbound.fetch()) == 2
    finally:
        await inbound.close()


async def test_idle_wakes_up_when_mail_arrives(dovecot: DovecotServer, pki: Pki) -> None:
    inbound = ImapInbound(imap_config(dovecot, pki))
    await inbound.open()
    try:
        assert "IDLE" in inbound.capabilities
        assert await inbound.fetch() == []
        started = time.monotonic()
        await inbound.wait_for_mail(0.3)  # nothing new: returns at the timeout
        assert 0.25 < time.monotonic() - started < 2

        waiter = asyncio.create_task(inbound.wait_for_mail(30))
        await asyncio.sleep(0.3)
        assert not waiter.done()
        delivered = time.monotonic()
        dovecot.deliver(make_mail())
        await asyncio.wait_for(waiter, 2)
        assert time.monotonic() - delivered < 2
        assert len(await inbound.fetch()) == 1  # the session is usable after IDLE
    finally:
        await inbound.close()


async def test_wait_for_mail_returns_at_once_when_unfetched_mail_is_there(
        dovecot: DovecotServer, pki: Pki) -> None:
    inbound = ImapInbound(imap_config(dovecot, pki, idle=False))
    await inbound.open()
    try:
        started = time.monotonic()
        await inbound.wait_for_mail(0.2)  # idle off: plain sleep
        assert time.monotonic() - started >= 0.19
        dovecot.deliver(make_mail())
        started = time.monotonic()
        await inbound.wait_for_mail(10)
        assert time.monotonic() - started < 1
    finally:
        await inbound.close()


async def test_oversized_message_body_is_not_downloaded(dovecot: DovecotServer, pki: Pki) -> None:
    small, big = make_mail("petit"), make_mail("gros", body_size=200_000)
    dovecot.deliver(small)
    dovecot.deliver(big)
    inbound = ImapInbound(imap_config(dovecot, pki, max_size_mb=0.1))
    await inbound.open()
    try:
        first, second = await inbound.fetch()
    finally:
        await inbound.close()
    assert first.raw == small and not isinstance(first, OversizedMail)
    assert isinstance(second, OversizedMail)
    assert second.size == len(big)
    header = big.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert second.raw == header
    # Dovecot's own accounting of the session: only the small body went out.
    for _ in range(50):
        match = re.search(r"body_count=(\d+) body_bytes=(\d+)", dovecot.log_tail(5))
        if match:
            break
        await asyncio.sleep(0.05)
    assert match and int(match.group(1)) == 1 and int(match.group(2)) < 1000


async def test_wrong_client_certificate_is_refused_in_french(dovecot: DovecotServer, pki: Pki) -> None:
    config = imap_config(dovecot, pki, auth="cert", client_cert=pki.wrong_client_cert,
                         client_key=pki.wrong_client_key)
    inbound = ImapInbound(config)
    with pytest.raises(TransportPermanentError, match=r"certificat client .*wrong-client.pem.* n'est pas reconnu"):
        await inbound.open()
    assert not inbound.connected


async def test_wrong_password_is_permanent(dovecot: DovecotServer, pki: Pki) -> None:
    inbound = ImapInbound(imap_config(dovecot, pki, password="faux"))
    with pytest.raises(TransportPermanentError, match="mot de passe refusé"):
        await inbound.open()


async def test_untrusted_server_certificate_is_a_tls_config_error(dovecot: DovecotServer, pki: Pki) -> None:
    inbound = ImapInbound(imap_config(dovecot, pki, tls="starttls", ca_file=pki.other_ca_cert))
    with pytest.raises(TLSConfigError, match=r"certificat du serveur non vérifié.*other-ca.pem"):
        await inbound.open()


async def test_nothing_listening_is_temporary(pki: Pki, dovecot: DovecotServer) -> None:
    inbound = ImapInbound(imap_config(dovecot, pki, port=free_port()))
    with pytest.raises(TransportTemporaryError, match="connexion impossible"):
        await inbound.open()


async def test_idle_is_reissued_and_survives_cancellation(dovecot: DovecotServer, pki: Pki,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mailbot.transports.imap.IDLE_MAX_SECONDS", 0.2)  # instead of 29 min
    inbound = ImapInbound(imap_config(dovecot, pki))
    await inbound.open()
    try:
        waiter = asyncio.create_task(inbound.wait_for_mail(0.5))
        await asyncio.sleep(0.05)
        waiter.cancel()  # daemon shutting down in the middle of IDLE
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await inbound.fetch() == []  # the session is still usable

        waiter = asyncio.create_task(inbound.wait_for_mail(30))
        await asyncio.sleep(0.7)  # several IDLE commands have come and gone
        assert not waiter.done()
        dovecot.deliver(make_mail())
        await asyncio.wait_for(waiter, 2)
    finally:
        await inbound.close()


async def test_server_requiring_client_certificates(pki: Pki) -> None:
    server = DovecotServer(pki, require_client_cert=True)
    server.start()
    try:
        with pytest.raises(TransportPermanentError, match="mot de passe refusé"):
            await ImapInbound(imap_config(server, pki)).open()  # password but no certificate
        server.deliver(make_mail())
        both = ImapInbound(imap_config(server, pki, client_cert=pki.client_cert,
                                       client_key=pki.client_key))
        await both.open()
        try:
            assert len(await both.fetch()) == 1
        finally:
            await both.close()
    finally:
        server.cleanup(fast=True)


async def test_silent_server_times_out_as_temporary(dovecot: DovecotServer, pki: Pki) -> None:
    async with mute_server() as port:
        inbound = ImapInbound(imap_config(dovecot, pki, tls="starttls", port=port,
                                          timeout_seconds=0.3))
        with pytest.raises(TransportTemporaryError, match="connexion impossible"):
            await inbound.open()


async def test_logs_carry_no_mail_content(dovecot: DovecotServer, pki: Pki,
                                          caplog: pytest.LogCaptureFixture) -> None:
    dovecot.deliver(make_mail("Patient Dupont, né le 01/02/1950"))
    inbound = ImapInbound(imap_config(dovecot, pki))
    with caplog.at_level(logging.DEBUG):
        await inbound.open()
        try:
            (mail,) = await inbound.fetch()
            await inbound.set_aside(mail.key)
        finally:
            await inbound.close()
    assert caplog.records
    for forbidden in ("Dupont", "partenaire@hopital.test", "Bonjour", dovecot.password):
        assert forbidden not in caplog.text


async def test_sizes_asked_only_for_mails_that_need_counting(dovecot: DovecotServer,
                                                             pki: Pki) -> None:
    """Small mails are read 100 at a time without a size FETCH; mails over 80 kB (found by
    ``SEARCH LARGER``) are measured, read whole by runs under 8 MB, or as a header when
    over the limit: every mail comes back, in UID order, whole or marked oversized."""
    mails = [make_mail("petit 1"), make_mail("moyen 1", body_size=600_000),
             make_mail("petit 2"), make_mail("trop gros", body_size=1_500_000)]
    mails += [make_mail(f"moyen {n}", body_size=700_000) for n in range(2, 15)]  # > 8 MB
    for raw in mails:
        dovecot.deliver(raw)
    inbound = ImapInbound(imap_config(dovecot, pki, max_size_mb=1))
    await inbound.open()
    try:
        fetched = await inbound.fetch()
    finally:
        await inbound.close()
    assert len(fetched) == len(mails)
    for raw, mail in zip(mails, fetched, strict=True):
        if len(raw) > 1_000_000:
            assert isinstance(mail, OversizedMail) and mail.size == len(raw)
            assert mail.raw == raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        else:
            assert not isinstance(mail, OversizedMail) and mail.raw == raw
    assert [int(m.key.split(":")[1]) for m in fetched] == sorted(
        int(m.key.split(":")[1]) for m in fetched)
