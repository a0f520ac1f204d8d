"""Mails already sent about an entry: the last one, and sending it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.clock import fr_date
from mailbot.errors import EncryptionRequiredError, UsageError
from mailbot.operations.context import OpContext, resolve_alerts
from mailbot.operations.labels import MAIL_KINDS
from mailbot.outbound.compose import new_message_id
from mailbot.outbound.protection import protect_again
from store import audit, outbox
from store.models import Entry, OutboxMessage


def last_mail(session: Session, entry: Entry) -> OutboxMessage | None:
    """The entry's most recent outgoing mail, if any."""
    return session.scalars(select(OutboxMessage).where(OutboxMessage.entry_id == entry.id)
                           .order_by(OutboxMessage.id.desc()).limit(1)).first()


def _with_headers(raw: bytes, values: Mapping[str, str]) -> bytes:
    """``raw`` with the headers named in ``values`` replaced; every other byte kept as it was."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    names = {name.lower().encode() for name in values}
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):  # continuation of the previous header
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in names
        if not skipping:
            kept.append(line)
    kept += [f"{name}: {value}".encode("ascii") for name, value in values.items()]
    return b"\r\n".join(kept) + (sep or b"\r\n\r\n") + body


def resend_last_mail(ctx: OpContext, entry: Entry) -> str:
    """Send the entry's last mail again as a fresh copy (new Message-ID and date), same recipients."""
    last = last_mail(ctx.session, entry)
    if last is None:
        raise UsageError(f"aucun message n'a encore été envoyé pour {entry.ref} : rien à renvoyer")
    message_id = new_message_id(ctx.app.config.identity.domain)
    raw = _with_headers(last.raw, {"Message-ID": message_id,
                                   "Date": format_datetime(ctx.now.astimezone(dt.UTC))})
    try:  # GPG: a copy refused for want of a key goes out encrypted once the key is known
        raw = protect_again(ctx.app, raw, last.recipients[0])
    except EncryptionRequiredError as error:
        raise UsageError(f"{error} : importez d'abord sa clé (mailbot keys import FICHIER), "
                         f"puis RENVOYER {entry.ref}") from error
    outbox.enqueue(ctx.session, message_id=message_id, kind=last.kind, sender=last.sender,
                   recipients=list(last.recipients), raw=raw, health_data=last.health_data,
                   now=ctx.now, entry_id=entry.id, inbound_id=ctx.inbound_id)
    audit.record(ctx.session, actor=ctx.actor, action="entry.resend", object_type="entry",
                 object_id=entry.ref, after={"kind": last.kind, "copy_of": last.id},
                 inbound_message_id=ctx.inbound_id, at=ctx.now)
    resolve_alerts(ctx, entry_id=entry.id, prefix="delivery_")
    return (f"{MAIL_KINDS.get(last.kind, last.kind)} du {fr_date(last.created_at)} renvoyé à "
            f"{', '.join(last.recipients)}.")
