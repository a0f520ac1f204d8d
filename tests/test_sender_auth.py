"""Who is writing: envelope sender, DKIM (signed here with a key the test generates), and
correlation tokens that are forged or replayed (both backends)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from mailbot.config import load_config
from mailbot.errors import ConfigError
from mailbot.workflows.digest import collect
from store.models import AuditRecord, Entry, InboundMessage
from tests.helpers import EXAMPLES, Bot
from tests.recontact_support import (
    ASK,
    PATIENT,
    add_entry,
    answer,
    entry,
    receive,
    recontact,
    token_of,
)

FORM = (EXAMPLES / "01-dac-text-form.eml").read_bytes()  # From: coordination@dac16.mssante.fr
SELECTOR = "mss2026"
NEXT_DAY = ASK + dt.timedelta(days=1)


class Keys:
    """DNS TXT records the test publishes: ``name → record``, looked up by dkimpy's dnsfunc."""

    def __init__(self) -> None:
        self.records: dict[bytes, bytes] = {}
        self.lookups: list[bytes] = []

    def publish(self, domain: str, selector: str = SELECTOR) -> bytes:
        """A new RSA key published for ``selector._domainkey.domain``; its private PEM."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        name = f"{selector}._domainkey.{domain}.".encode()
        self.records[name] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def txt(self, name: bytes, timeout: int = 5) -> bytes | None:
        """The dnsfunc given to dkimpy."""
        self.lookups.append(name)
        return self.records.get(name)


@pytest.fixture
def keys() -> Keys:
    return Keys()


def _bot(tmp_path: Path, database_section: dict[str, str], keys: Keys, **senders: object) -> Bot:
    extra = {"senders": senders} if senders else None
    bot = Bot.create(tmp_path, database_section, extra)
    bot.app.dns_txt = keys.txt
    return bot


@pytest.fixture
def bot(tmp_path: Path, database_section: dict[str, str], keys: Keys) -> Iterator[Bot]:
    instance = _bot(tmp_path, database_section, keys)
    yield instance
    instance.close()


def sign(raw: bytes, private: bytes, domain: str = "dac16.mssante.fr") -> bytes:
    """``raw`` with a DKIM-Signature of ``domain`` prepended (CRLF line ends, as on the wire)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    header = dkim.sign(raw, SELECTOR.encode(), domain.encode(), private,
                       include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return header + raw


def _rows(bot: Bot) -> list[InboundMessage]:
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def _entries(bot: Bot) -> int:
    with bot.app.db.sessions() as session:
        return len(list(session.scalars(select(Entry.id))))


def _digest_text(bot: Bot) -> str:
    with bot.app.db.sessions() as session:
        digest = collect(bot.app, session, bot.app.clock.now(), None)
    return "\n".join(f"{item.reason} → {item.command}" for item in digest.items)


def test_return_path_of_another_domain_is_quarantined_with_reason_in_digest(bot: Bot) -> None:
    spoofed = b"Return-Path: <bulk@attacker.example>\r\n" + FORM
    assert receive(bot, spoofed, NEXT_DAY) == {"quarantined": 1}
    row = _rows(bot)[-1]
    assert row.kind == "sender_mismatch" and "attacker.example" in (row.reason or "")
    assert _entries(bot) == 0
    assert "Return-Path" in _digest_text(bot)
    # The same form with its own envelope is a referral.
    genuine = b"Return-Path: <coordination@dac16.mssante.fr>\r\n" + FORM.replace(
        b"fiche-0001", b"fiche-0002")
    assert receive(bot, genuine, NEXT_DAY) == {"processed": 1}
    assert _entries(bot) == 1


def test_no_return_path_is_not_compared_and_null_sender_neither(bot: Bot) -> None:
    # A file dropped into the Maildir by hand has no envelope: the mail goes on.
    assert receive(bot, FORM, NEXT_DAY) == {"processed": 1}
    assert _entries(bot) == 1


def test_valid_dkim_signature_passes_and_tampered_one_is_quarantined(bot: Bot, keys: Keys) -> None:
    private = keys.publish("dac16.mssante.fr")
    signed = sign(FORM, private)
    assert receive(bot, signed, NEXT_DAY) == {"processed": 1}
    assert keys.lookups == [b"mss2026._domainkey.dac16.mssante.fr."]
    tampered = sign(FORM.replace(b"fiche-0001", b"fiche-0002"), private).replace(
        b"DURAND", b"DUPONT")
    assert receive(bot, tampered, NEXT_DAY) == {"quarantined": 1}
    row = _rows(bot)[-1]
    assert row.kind == "dkim_fail"
    assert _entries(bot) == 1
    assert "DKIM" in _digest_text(bot)


def test_signature_with_an_unpublished_key_is_quarantined(bot: Bot, keys: Keys) -> None:
    other = Keys()
    private = other.publish("dac16.mssante.fr")  # never published in the bot's DNS
    assert receive(bot, sign(FORM, private), NEXT_DAY) == {"quarantined": 1}
    assert _rows(bot)[-1].kind == "dkim_fail"


def test_require_dkim_quarantines_unsigned_mail_of_that_domain(
        tmp_path: Path, database_section: dict[str, str], keys: Keys) -> None:
    bot = _bot(tmp_path, database_section, keys, require_dkim=["dac16.mssante.fr"])
    try:
        assert receive(bot, FORM, NEXT_DAY) == {"quarantined": 1}
        assert _rows(bot)[-1].kind == "dkim_missing"
        # Signed by another domain: valid, but not the sender's.
        stranger_key = keys.publish("relais.example")
        signed_elsewhere = sign(FORM.replace(b"fiche-0001", b"fiche-0003"), stranger_key,
                                domain="relais.example")
        assert receive(bot, signed_elsewhere, NEXT_DAY) == {"quarantined": 1}
        assert _rows(bot)[-1].kind == "dkim_missing"
        private = keys.publish("dac16.mssante.fr")
        signed = sign(FORM.replace(b"fiche-0001", b"fiche-0002"), private)
        assert receive(bot, signed, NEXT_DAY) == {"processed": 1}
        assert _entries(bot) == 1
        # Other partners' unsigned mail is unaffected.
        hospital = (EXAMPLES / "02-hospital-incomplete.eml").read_bytes()
        assert receive(bot, hospital, NEXT_DAY) != {"quarantined": 1}
    finally:
        bot.close()


def test_require_dkim_domain_must_be_a_known_sender(tmp_path: Path) -> None:
    from mailbot.config.minimal import merged, minimal_sections, render_toml

    path = tmp_path / "mailbot.toml"
    path.write_text(render_toml(merged(minimal_sections(), {
        "senders": {"require_dkim": ["inconnu.example"]}})), encoding="utf-8")
    with pytest.raises(ConfigError, match="require_dkim n'apparaît dans aucune"):
        load_config(path)
    path.write_text(render_toml(merged(minimal_sections(), {
        "senders": {"require_dkim": ["x@dac16.mssante.fr"]}})), encoding="utf-8")
    with pytest.raises(ConfigError, match="un nom de domaine"):
        load_config(path)


def test_forged_tokens_never_change_an_entry_and_block_the_address(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    code = token_of(bot.sent()[0])
    attacker = "inconnu@laposte.net"
    # The real token replayed from another address: escalated, nothing changes.
    replay = answer(attacker, "NON", subject=f"NON [CPTS-R-{code}]")
    assert receive(bot, replay, NEXT_DAY) == {"escalated": 1}
    for n in range(2):  # forged codes: quarantined (a stranger), counted
        forged = answer(attacker, "NON", subject=f"NON [CPTS-R-ZZZZZZZZZZZZZ{n}]")
        assert receive(bot, forged, NEXT_DAY) == {"quarantined": 1}
    assert entry(bot, ref).status == "waiting"
    # Third bad token within the hour: the address is now quarantined as a whole.
    hello = answer(attacker, "Bonjour", subject="Bonjour")
    assert receive(bot, hello, NEXT_DAY) == {"quarantined": 1}
    assert _rows(bot)[-1].kind == "sender_blocked"
    assert "jetons falsifiés" in _digest_text(bot)
    # The bound address still gets through.
    assert receive(bot, answer(PATIENT, "NON", subject=f"NON [CPTS-R-{code}]"), NEXT_DAY) == {
        "processed": 1}
    # A coordinator lifts it (CLI, audited): the address is read again.
    assert attacker in bot.cli("senders", "blocked").stdout
    out = bot.cli("senders", "unblock", attacker).stdout
    assert "levée" in out
    assert bot.cli("senders", "unblock", attacker, check=False).returncode == 2
    with bot.app.db.sessions() as session:
        actions = [a for a in session.scalars(select(AuditRecord.action))]
    assert "sender.block" in actions and "sender.unblock" in actions
    again = answer(attacker, "Bonjour", subject="Bonjour encore")
    assert receive(bot, again, NEXT_DAY) == {"quarantined": 1}
    assert _rows(bot)[-1].kind == "unknown_sender"


def test_forged_tokens_spread_over_more_than_an_hour_do_not_block(bot: Bot) -> None:
    add_entry(bot)
    gp = "dr.martin@medecin.mssante.fr"
    for n in range(4):
        forged = answer(gp, "OUI", subject=f"OUI [CPTS-P-ZZZZZZZZZZZZZ{n}]")
        assert receive(bot, forged, NEXT_DAY + dt.timedelta(hours=2 * n)) == {"quarantined": 1}
    assert all(row.kind == "unknown_sender" for row in _rows(bot))


def test_commands_need_the_coordinators_address_and_its_envelope(bot: Bot) -> None:
    receive(bot, FORM, NEXT_DAY)
    with bot.app.db.sessions() as session:
        ref = session.scalars(select(Entry.ref)).one()
    coordinator = "coordination@cpts-exemple.mssante.fr"
    command = (f"From: <{coordinator}>\r\nTo: liste-attente@cpts-exemple.mssante.fr\r\n"
               f"Subject: Commandes\r\nMessage-ID: <{{n}}@x>\r\n\r\nCLOTURER {ref} retrait\r\n")
    # From the coordinator's address, but sent by someone else's server: never run.
    spoofed = "Return-Path: <bounce@relais-pirate.example>\r\n" + command.format(n="c1")
    assert receive(bot, spoofed.encode(), NEXT_DAY) == {"quarantined": 1}
    # From another address: never run either.
    other = command.format(n="c2").replace(coordinator, "intrus@dac16.mssante.fr")
    assert receive(bot, other.encode(), NEXT_DAY) == {"quarantined": 1}
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry.status)).one() == "waiting"
    genuine = f"Return-Path: <{coordinator}>\r\n" + command.format(n="c3")
    assert receive(bot, genuine.encode(), NEXT_DAY) == {"processed": 1}
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry.status)).one() == "closed"


def test_dkim_key_unreachable_is_retried_not_judged(bot: Bot, keys: Keys) -> None:
    private = keys.publish("dac16.mssante.fr")
    down = True

    def flaky(name: bytes, timeout: int = 5) -> bytes | None:
        if down:
            raise dkim.DnsTimeoutError("time-out")
        return keys.txt(name, timeout)

    bot.app.dns_txt = flaky
    assert receive(bot, sign(FORM, private), NEXT_DAY) == {}  # stays received, retried later
    row = _rows(bot)[-1]
    assert (row.state, row.attempts) == ("received", 1)
    down = False
    assert dict(bot.run_once().states) == {"processed": 1}
    assert _entries(bot) == 1
