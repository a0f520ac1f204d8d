"""What leaves the outbox: the mail's bytes, signed and encrypted when GPG is configured.

A route with ``require_encryption`` never gets a plaintext mail: without the
recipient's key, :class:`~mailbot.errors.EncryptionRequiredError` is raised and
the caller escalates (see :func:`escalate_unencrypted`).
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import Message

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.gpg.outbound import protect
from mailbot.outbound.compose import as_bytes
from mailbot.outbound.routing import choose_route, domain_of, routes_of
from parsers.pgpmime import looks_encrypted, looks_signed
from store import audit, outbox
from store.alerts import raise_alert

log = logging.getLogger(__name__)

UNENCRYPTED = "chiffrement exigé sur cette voie et aucune clé connue pour le destinataire"


def requires_encryption(app: App, recipient: str) -> bool:
    """True when the route of ``recipient`` requires encryption."""
    outbound = app.config.outbound
    if not outbound.require_encryption and not any(r.require_encryption for r in outbound.routes):
        return False
    return choose_route(routes_of(outbound), recipient).config.require_encryption


def outgoing_bytes(app: App, msg: Message, recipient: str) -> bytes:
    """The bytes to enqueue for ``recipient``: ``msg`` as is, or signed and encrypted (GPG)."""
    require = requires_encryption(app, recipient)
    keyring = app.keyring
    if keyring is None and not require:
        return as_bytes(msg)
    cfg = app.config.gpg
    return protect(keyring, as_bytes(msg), recipient, sign=cfg.sign_outbound,
                   encrypt=cfg.encrypt_outbound, require_encryption=require)


def escalate_unencrypted(session: Session, *, kind: str, recipient: str, now: dt.datetime,
                         entry_id: int | None, inbound_id: int | None,
                         outbox_id: int | None = None) -> None:
    """Refuse (``outbox_id``), audit and alert a mail not sent because it could not be encrypted."""
    if outbox_id is not None:
        outbox.refuse_now(session, outbox_id, error=UNENCRYPTED)
    audit.record(session, actor="system", action="outbox.unencrypted", object_type="outbox",
                 object_id=outbox_id, after={"kind": kind, "entry_id": entry_id},
                 inbound_message_id=inbound_id, at=now)
    raise_alert(session, kind="encryption_key_missing", now=now, entry_id=entry_id,
                outbox_id=outbox_id,
                reason=f"message « {kind} » non envoyé : la voie vers {domain_of(recipient)} exige "
                       "le chiffrement et le destinataire n'a pas de clé connue")
    log.warning("mail %s not enqueued: encryption required, no key (inbound %s)", kind, inbound_id)


def protect_again(app: App, raw: bytes, recipient: str) -> bytes:
    """A stored mail about to be sent again (RENVOYER): encrypted now if it was not and its
    route requires it, or if GPG is on and the recipient's key is known; signed if it was not.
    Raises :class:`EncryptionRequiredError` like :func:`outgoing_bytes`."""
    keyring = app.keyring
    require = requires_encryption(app, recipient)
    if looks_encrypted(raw) or (keyring is None and not require):
        return raw
    cfg = app.config.gpg
    return protect(keyring, raw, recipient, sign=cfg.sign_outbound and not looks_signed(raw),
                   encrypt=cfg.encrypt_outbound, require_encryption=require)
