"""Correlation tokens ``[CPTS-<kind>-<code>]`` that tie a reply to what we asked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from store import appends
from store.models import Token
from store.refs import random_code

CODE_LENGTH = 14  # 70 random bits


_INSERT = insert(Token)


def issue(session: Session, *, kind: str, recipient: str, now: dt.datetime, ttl_days: float,
          entry_id: int | None = None, object_id: int | None = None,
          outbox_message_id: str | None = None) -> str:
    """A new random token bound to ``recipient`` and one purpose, valid ``ttl_days``; its code."""
    code = random_code(CODE_LENGTH)
    appends.add(session, _INSERT, {
        "code": code, "kind": kind, "recipient": recipient.lower(), "entry_id": entry_id,
        "object_id": object_id, "created_at": now, "expires_at": now + dt.timedelta(days=ttl_days),
        "outbox_message_id": outbox_message_id, "used_at": None})
    return code


# Token rows are only ever inserted by :func:`issue` (buffered appends, written before any
# statement on the table) and their other columns never change but ``used_at``: a
# look-up needs no flush of the session's pending changes first (``no_autoflush``: they
# go out with the next statement that needs them, one flush for more of them).
_BY_CODE = select(Token).where(Token.code == bindparam("code")).limit(1)
_BY_MESSAGE_IDS = (select(Token).where(Token.outbox_message_id.in_(bindparam("ids", expanding=True)))
                   .order_by(Token.id.desc()).limit(1))


def find(session: Session, code: str) -> Token | None:
    """The token with that code, or ``None``."""
    with session.no_autoflush:
        return session.scalars(_BY_CODE, {"code": code.upper()}).first()


def find_by_message_ids(session: Session, message_ids: list[str]) -> Token | None:
    """The newest token issued with one of our mails named in ``In-Reply-To``/``References``."""
    if not message_ids:
        return None
    with session.no_autoflush:
        return session.scalars(_BY_MESSAGE_IDS, {"ids": list(message_ids)}).first()
