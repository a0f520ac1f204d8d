"""GPG with the real ``gpg`` and keys generated for the session: inbound PGP/MIME decrypted and
verified, outbound signed and encrypted, keys CLI, keyring rights, doctor, signed commands."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import stat
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.doctor.gpg import gpg_checks
from mailbot.workflows.digest import collect
from store.models import Alert, Entry, InboundMessage, OutboxMessage
from tests.gpg_support import (
    BOT,
    COORD,
    PARTNER,
    PIRATE,
    Pgp,
    encrypted_mail,
    kill_agent,
    pgp,
    short_dir,
    signed_mail,
)
from tests.helpers import EXAMPLES, Bot

__all__ = ["pgp"]  # the session fixture

FORM = (EXAMPLES / "01-dac-text-form.eml").read_bytes()  # from PARTNER


def make_bot(tmp_path: Path, database_section: dict[str, str], pgp: Pgp, *,
             gpg: dict[str, Any] | None = None, extra: dict[str, dict[str, Any]] | None = None,
             public: tuple[str, ...] = (COORD, PARTNER, PIRATE), bot_key: bool = True) -> Bot:
    """A bot whose keyring (created by the bot, 0700) holds its key and ``public`` keys."""
    home = short_dir("gpgb") / "k"
    sections = {"gpg": {"home": str(home), **(gpg or {})}, **(extra or {})}
    bot = Bot.create(tmp_path, database_section, sections)
    keyring = bot.app.keyring
    assert keyring is not None
    if bot_key:
        keyring.import_keys(pgp.secret(BOT))
    for address in public:
        keyring.import_keys(pgp.public(address))
    return bot


def close_bot(bot: Bot) -> None:
    home = bot.app.config.gpg.home
    assert home is not None
    kill_agent(home)
    shutil.rmtree(home.parent, ignore_errors=True)
    bot.close()


@pytest.fixture
def bot(tmp_path: Path, database_section: dict[str, str], pgp: Pgp) -> Iterator[Bot]:
    instance = make_bot(tmp_path, database_section, pgp,
                        gpg={"require_signed_commands": True})
    yield instance
    close_bot(instance)


def _last(bot: Bot) -> InboundMessage:
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert row is not None
        return row


def _entries(bot: Bot) -> list[Entry]:
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(Entry)))


def _raw_sent(bot: Bot) -> list[bytes]:
    files = sorted((bot.outbox_dir / "new").iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    # Maildir files have LF line ends; on the wire (and for signatures) it is CRLF.
    return [path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for path in files]


def _parts(raw: bytes) -> tuple[Message, list[bytes]]:
    """The parsed mail and the exact bytes of its top-level parts (split on the boundary)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    boundary = msg.get_boundary()
    assert boundary, msg.get_content_type()
    body = raw.split(b"\r\n\r\n", 1)[1]
    chunks = re.split(b"\r\n--" + re.escape(boundary.encode()) + b"(?:--)?\r\n",
                      b"\r\n" + body)
    return msg, chunks[1:-1] if len(chunks) > 3 else chunks[1:]


def _verify_signed(pgp: Pgp, raw: bytes) -> bytes:
    """Check a multipart/signed mail with gpg; return the signed entity."""
    msg, parts = _parts(raw)
    assert msg.get_content_type() == "multipart/signed"
    assert msg.get_param("protocol") == "application/pgp-signature"
    content, signature_part = parts[0], parts[1]
    signature = signature_part.split(b"\r\n\r\n", 1)[1]
    assert pgp.verify(content, signature) == pgp.fingerprints[BOT]
    return content


def test_keyring_is_created_0700_and_a_wider_one_is_refused(bot: Bot) -> None:
    home = bot.app.config.gpg.home
    assert home is not None
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    listing = bot.cli("keys", "list").stdout
    assert BOT in listing and COORD in listing and "clé du robot" in listing
    home.chmod(0o755)
    proc = bot.cli("keys", "list", check=False)
    assert proc.returncode == 2 and "chmod 700" in proc.stderr
    home.chmod(0o700)


def _cli(bot: Bot, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mailbot ARGS`` in-process (the real argument parser and handlers)."""
    from mailbot.cli import main

    code = main(["--config", str(bot.config_path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_import_list_remove(bot: Bot, pgp: Pgp, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert "Clé retirée" in _cli(bot, capsys, "keys", "remove", PARTNER)[1]
    assert PARTNER not in _cli(bot, capsys, "keys", "list")[1]
    key_file = tmp_path / "dac16.asc"
    key_file.write_bytes(pgp.public(PARTNER))
    code, out, _ = _cli(bot, capsys, "keys", "import", str(key_file))
    assert code == 0 and pgp.fingerprints[PARTNER] in out and PARTNER in out
    assert PARTNER in _cli(bot, capsys, "keys", "list")[1]
    code, _, err = _cli(bot, capsys, "keys", "remove", BOT)
    assert code == 2 and "clé du robot" in err
    secret_file = tmp_path / "secret.asc"
    secret_file.write_bytes(pgp.secret(PIRATE))
    code, _, err = _cli(bot, capsys, "keys", "import", str(secret_file))
    assert code == 2 and "clé secrète" in err
    code, _, err = _cli(bot, capsys, "keys", "import", str(tmp_path / "absent.asc"))
    assert code == 2 and "illisible" in err


def test_signed_command_is_run_and_unsigned_or_untrusted_ones_are_escalated(
        bot: Bot, pgp: Pgp) -> None:
    bot.drop(FORM)
    bot.run_once()
    [entry] = _entries(bot)
    body = f"CLOTURER {entry.ref} retrait\n"
    cases = [
        (b"From: <" + COORD.encode() + b">\r\nTo: " + BOT.encode() + b"\r\nSubject: Commandes\r\n"
         b"Message-ID: <c1@cpts>\r\n\r\n" + body.encode(), "command_unsigned"),
        (signed_mail(pgp, COORD, body, subject="Commandes", message_id="c2@cpts", signer=PIRATE),
         "gpg_key_not_bound"),
        (signed_mail(pgp, COORD, body, subject="Commandes", message_id="c3@cpts", tamper=True),
         "gpg_bad_signature"),
    ]
    for raw, kind in cases:
        bot.drop(raw)
        assert bot.run_once().states == {"escalated": 1}, kind
        assert _last(bot).kind == kind
        assert _entries(bot)[0].status == "waiting"
    # A key the bot does not know: unverifiable, never trusted.
    with bot.app.db.sessions():
        keyring = bot.app.keyring
        assert keyring is not None
        keyring.remove(COORD)
    bot.drop(signed_mail(pgp, COORD, body, subject="Commandes", message_id="c4@cpts"))
    assert bot.run_once().states == {"escalated": 1}
    assert _last(bot).kind == "gpg_unknown_key"
    keyring.import_keys(pgp.public(COORD))
    bot.drop(signed_mail(pgp, COORD, body, subject="Commandes", message_id="c5@cpts"))
    assert bot.run_once().states == {"processed": 1}
    assert _entries(bot)[0].status == "closed"


def test_encrypted_referral_is_decrypted_registered_and_answered_encrypted(
        bot: Bot, pgp: Pgp) -> None:
    _headers, body = FORM.replace(b"\r\n", b"\n").split(b"\n\n", 1)
    entity = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
              + body.replace(b"\n", b"\r\n"))
    raw = encrypted_mail(pgp, PARTNER, entity, subject="Fiche", message_id="e1@dac16",
                         sign_as=PARTNER)
    assert b"DURAND" not in raw
    bot.drop(raw)
    assert bot.run_once().states == {"processed": 1}
    [entry] = _entries(bot)
    assert entry.status in ("waiting", "incomplete")
    # The acknowledgement to the partner (whose key is known) is signed, then encrypted.
    [ack] = _raw_sent(bot)
    msg, parts = _parts(ack)
    assert msg.get_content_type() == "multipart/encrypted"
    assert msg["To"] == PARTNER and entry.ref.encode() not in ack
    armored = parts[1].split(b"\r\n\r\n", 1)[1]
    inner = pgp.decrypt(armored).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    content = _verify_signed(pgp, b"MIME-Version: 1.0\r\n" + inner)
    assert entry.ref.encode() in email.message_from_bytes(content).get_payload(decode=True)


def test_undecryptable_and_bad_combined_signature_are_escalated(bot: Bot, pgp: Pgp) -> None:
    entity = b"Content-Type: text/plain; charset=utf-8\r\n\r\nNom : DURAND\r\n"
    for_someone_else = encrypted_mail(pgp, PARTNER, entity, subject="Fiche", message_id="e2@d",
                                      to=PIRATE)
    bot.drop(for_someone_else)
    assert bot.run_once().states == {"escalated": 1}
    assert _last(bot).kind == "gpg_undecryptable"
    signed_by_pirate = encrypted_mail(pgp, PARTNER, entity, subject="Fiche", message_id="e3@d",
                                      sign_as=PIRATE)
    bot.drop(signed_by_pirate)
    assert bot.run_once().states == {"escalated": 1}
    assert _last(bot).kind == "gpg_key_not_bound"
    assert _entries(bot) == []


def test_mail_to_a_recipient_without_key_is_signed_only(
        tmp_path: Path, database_section: dict[str, str], pgp: Pgp) -> None:
    bot = make_bot(tmp_path, database_section, pgp, public=(COORD,))
    try:
        bot.drop(FORM)
        assert bot.run_once().states == {"processed": 1}
        [ack] = _raw_sent(bot)
        content = _verify_signed(pgp, ack)
        assert b"quoted-printable" in content.split(b"\r\n\r\n", 1)[0]
        sent = email.message_from_bytes(ack, policy=email.policy.default)
        assert sent["To"] == PARTNER and sent["X-CPTS-Mailbot"]
    finally:
        close_bot(bot)


def test_route_requiring_encryption_never_sends_plaintext(
        tmp_path: Path, database_section: dict[str, str], pgp: Pgp,
        capsys: pytest.CaptureFixture[str]) -> None:
    bot = make_bot(tmp_path, database_section, pgp, public=(COORD,),
                   extra={"outbound": {"transport": "maildir", "path": "var/outbox",
                                       "require_encryption": True}})
    try:
        bot.drop(FORM)
        assert bot.run_once().states == {"processed": 1}
        assert _raw_sent(bot) == []  # no key for the partner: nothing sent, escalated
        with bot.app.db.sessions() as session:
            alerts = list(session.scalars(select(Alert)))
            [kept] = list(session.scalars(select(OutboxMessage)))
        assert [a.kind for a in alerts] == ["encryption_key_missing"]
        assert "dac16.mssante.fr" in alerts[0].reason and alerts[0].outbox_id == kept.id
        assert kept.state == "refused" and kept.attempts == 0
        [entry] = _entries(bot)
        with bot.app.db.sessions() as session:
            digest = collect(bot.app, session, bot.app.clock.now(), None)
        assert any("mailbot keys import" in item.command and entry.ref in item.command
                   for item in digest.items)
        # RENVOYER before the key is known: refused, still nothing in plaintext.
        code, _, err = _cli(bot, capsys, "entries", "resend", entry.ref)
        assert code == 2 and "importez d'abord sa clé" in err
        # Once the key is imported, RENVOYER sends it encrypted.
        key_file = tmp_path / "dac16.asc"
        key_file.write_bytes(pgp.public(PARTNER))
        assert _cli(bot, capsys, "keys", "import", str(key_file))[0] == 0
        assert _cli(bot, capsys, "entries", "resend", entry.ref)[0] == 0
        assert _cli(bot, capsys, "run", "--once")[0] == 0
        [ack] = _raw_sent(bot)
        msg, parts = _parts(ack)
        assert msg.get_content_type() == "multipart/encrypted"
        inner = pgp.decrypt(parts[1].split(b"\r\n\r\n", 1)[1])
        _verify_signed(pgp, b"MIME-Version: 1.0\r\n" + inner.replace(b"\r\n", b"\n")
                       .replace(b"\n", b"\r\n"))
    finally:
        close_bot(bot)


def test_doctor_checks_the_bot_key(tmp_path: Path, database_section: dict[str, str],
                                   pgp: Pgp) -> None:
    bot = make_bot(tmp_path, database_section, pgp, bot_key=False, public=(BOT,))
    try:
        by_name = {c.name: c for c in gpg_checks(bot.app)}
        assert by_name["trousseau GPG"].ok
        assert not by_name["clé du robot"].ok and "partie secrète" in by_name["clé du robot"].detail
        keyring = bot.app.keyring
        assert keyring is not None and pgp.soon is not None
        keyring.remove(BOT)
        from tests.gpg_support import gpg
        keyring.import_keys(gpg(pgp.soon, "--armor", "--export-secret-keys", BOT))
        by_name = {c.name: c for c in gpg_checks(bot.app)}
        assert by_name["clé du robot"].ok
        expiry = by_name["expiration de la clé du robot"]
        assert not expiry.ok and "quick-set-expire" in expiry.fix
        out = bot.cli("doctor", check=False).stdout
        assert "[ERREUR] expiration de la clé du robot" in out
    finally:
        close_bot(bot)


def test_doctor_accepts_a_good_bot_key(bot: Bot) -> None:
    checks = gpg_checks(bot.app)
    assert [c.name for c in checks] == ["trousseau GPG", "clé du robot",
                                        "expiration de la clé du robot"]
    assert all(c.ok for c in checks), checks


def test_gpg_section_is_validated_in_french(tmp_path: Path) -> None:
    from mailbot.config import load_config
    from mailbot.config.minimal import merged, minimal_sections, render_toml
    from mailbot.errors import ConfigError

    path = tmp_path / "mailbot.toml"
    path.write_text(render_toml(merged(minimal_sections(), {
        "gpg": {"home": "var/gnupg", "key": "pas-une-empreinte"}})), encoding="utf-8")
    with pytest.raises(ConfigError, match="empreinte de la clé du robot"):
        load_config(path)
    path.write_text(render_toml(merged(minimal_sections(), {"gpg": {"home": "var/gnupg"}})),
                    encoding="utf-8")
    config = load_config(path)
    assert config.gpg.enabled and config.gpg.home == tmp_path / "var" / "gnupg"
    assert not load_config_without_gpg(tmp_path).gpg.enabled


def load_config_without_gpg(tmp_path: Path) -> Any:
    from mailbot.config import load_config
    from mailbot.config.minimal import minimal_sections, render_toml

    path = tmp_path / "plain.toml"
    path.write_text(render_toml(minimal_sections()), encoding="utf-8")
    return load_config(path)


def test_command_signed_then_encrypted_is_run(bot: Bot, pgp: Pgp) -> None:
    bot.drop(FORM)
    bot.run_once()
    [entry] = _entries(bot)
    signed = signed_mail(pgp, COORD, f"CLOTURER {entry.ref} retrait\n", subject="x",
                         message_id="x@x")
    head, body = signed.split(b"\r\n\r\n", 1)
    content_type = head[head.index(b"Content-Type:"):]  # the multipart/signed entity (§6.1)
    bot.drop(encrypted_mail(pgp, COORD, content_type + b"\r\n\r\n" + body, subject="Commandes",
                            message_id="se1@cpts"))
    assert bot.run_once().states == {"processed": 1}
    assert _entries(bot)[0].status == "closed"


def test_plaintext_already_queued_is_refused_on_a_route_requiring_encryption(
        tmp_path: Path, database_section: dict[str, str]) -> None:
    import asyncio

    from mailbot.outbound.delivery import OutboxWorker
    from store import outbox

    bot = Bot.create(tmp_path, database_section, {"outbound": {
        "transport": "maildir", "path": "var/outbox", "require_encryption": True}})
    try:
        with bot.app.db.transaction() as session:  # e.g. queued before the route required it
            outbox.enqueue(session, message_id="<old@cpts-exemple.mssante.fr>", kind="recontact",
                           sender=BOT, recipients=["patient@fai-exemple.fr"],
                           raw=b"Subject: Toujours sans medecin ?\r\n\r\nOUI ou NON.\r\n",
                           health_data=False, now=bot.app.clock.now())
        counts = asyncio.run(OutboxWorker(bot.app).deliver_due())
        assert counts == {"refused": 1} and _raw_sent(bot) == []
        # Without GPG at all, a new mail on that route is kept refused and escalated too.
        bot.drop(FORM)
        bot.run_once()
        assert _raw_sent(bot) == []
        with bot.app.db.sessions() as session:
            states = sorted(m.state for m in session.scalars(select(OutboxMessage)))
            kinds = sorted(a.kind for a in session.scalars(select(Alert)))
        assert states == ["refused", "refused"]
        assert "encryption_key_missing" in kinds and "delivery_refused" in kinds
    finally:
        bot.close()
