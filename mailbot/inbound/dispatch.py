"""From a classified mail to its workflow, inside one transaction."""

from __future__ import annotations

from email.message import Message

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.commands.mail import handle_commands, refuse_commands
from mailbot.config.senders import Role
from mailbot.gpg.inbound import open_mail
from mailbot.inbound.classify import ClassifyContext, classify
from mailbot.workflows.attachments import handle_partner_mail
from mailbot.workflows.base import Outcome, Work, escalate
from mailbot.workflows.bounces import MACHINE_KINDS, handle_machine_mail
from mailbot.workflows.gp_mail import handle_gp_mail
from mailbot.workflows.replies import handle_reply
from parsers import pgpmime
from parsers.addresses import address_of, display_name_of
from parsers.lean_mime import parse_message
from parsers.mime import decode_header_text
from store import blocked, gps, transaction_state
from store.models import InboundMessage


def parse_raw(raw: bytes) -> Message:
    """Parse raw bytes leniently with the fast ``compat32`` API.

    Header values come back as the raw strings (decode RFC 2047 with
    ``parsers.mime.decode_header_text``); parsing never raises on bad input.
    A big mail is parsed with bounded memory (:mod:`parsers.lean_mime`).
    """
    return parse_message(raw)


def _by_role(work: Work) -> Outcome:
    if work.role in (Role.PARTNER, Role.ALLOWED):
        return refuse_commands(work) or handle_partner_mail(work)
    if work.role is Role.COORDINATOR:
        return handle_commands(work)
    if work.role is Role.GP:
        return handle_gp_mail(work)
    return escalate("message non reconnu", kind="unknown")


def _gp_addresses(session: Session) -> set[str]:
    """Every GP's address, read once per transaction (a batch of mails), not once per mail."""
    return transaction_state.setdefault(
        session, "gp_addresses",
        lambda: {address.strip().lower() for address in gps.addresses(session)})


def sender_role(app: App, session: Session, sender: str | None) -> Role:
    """The sender's role; GPs are looked up in the database (registered while the daemon runs)."""
    role = app.directory.role(sender)
    if sender and role not in (Role.COORDINATOR, Role.GP) \
            and sender.strip().lower() in _gp_addresses(session):
        return Role.GP
    return role


def process_row(app: App, session: Session, row: InboundMessage,
                msg: Message | None = None) -> Outcome:
    """Classify one stored mail and run its workflow; the caller commits.

    ``msg`` is the mail already parsed from ``row.raw`` (by the pipeline), else it is
    parsed here.
    """
    if msg is None:
        assert row.raw is not None
        msg = parse_raw(row.raw)
    from_header = decode_header_text(str(msg.get("From", "")))
    sender = address_of(from_header)
    signed_by = None
    pgp = pgpmime.is_encrypted(msg) or pgpmime.is_signed(msg)
    if app.keyring is not None and pgp:  # read the decrypted content, trust only a bound key
        assert row.raw is not None  # loaded now: the PGP/MIME structure is over the bytes
        opened = open_mail(app.keyring, row.raw, msg, sender)
        if opened.problem:
            return escalate(opened.problem, kind=opened.kind)
        msg, signed_by = opened.msg, opened.signed_by
    role = sender_role(app, session, sender)
    ctx = ClassifyContext(own_address=app.config.identity.address,
                          own_domain=app.config.identity.domain, sender=sender, role=role,
                          size=row.size, max_size=app.max_inbound_bytes,
                          raw_of=lambda: row.raw or b"",
                          dkim_required=app.config.senders.dkim_required(sender),
                          dns_txt=app.dns_txt, blocked=blocked.is_blocked(session, sender))
    verdict = classify(msg, ctx)
    if verdict.kind in MACHINE_KINDS:  # bounces mark failing addresses; absences are noted
        return handle_machine_mail(app, session, row, msg, verdict)
    if verdict.state is not None:
        return Outcome(verdict.state, verdict.reason, verdict.kind)
    work = Work(app=app, session=session, row=row, msg=msg, verdict=verdict, sender=sender,
                sender_name=display_name_of(from_header), role=role, now=app.clock.now(),
                signed_by=signed_by)
    outcome = handle_reply(work, _by_role) if verdict.kind == "reply" else _by_role(work)
    if outcome.kind is None:
        return Outcome(outcome.state, outcome.reason, verdict.kind, outcome.entry_id)
    return outcome
