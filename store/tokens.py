"""Correlation tokens ``[CPTS-<kind>-<code>]`` that tie a reply to what we asked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.orm import Session

from store import appends, transaction_state
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


_PREFETCHED = "tokens_prefetched"  # transaction state: what :func:`prefetch` read


@dataclass
class _Prefetched:
    codes: set[str] = field(default_factory=set)          # asked for (found or not)
    message_ids: set[str] = field(default_factory=set)    # asked for (found or not)
    by_code: dict[str, Token] = field(default_factory=dict)
    by_message_id: dict[str, Token] = field(default_factory=dict)  # the newest token of each


def prefetch(session: Session, codes: set[str], message_ids: set[str]) -> list[Token]:
    """Read at once the tokens a batch of replies names (one query instead of one per reply).

    :func:`find` and :func:`find_by_message_ids` then answer from them for the rest of the
    transaction, "none" included: a token issued meanwhile has a new random code and the
    Message-ID of a mail not sent yet, which no reply of the batch can name.
    """
    codes = {code.upper() for code in codes}
    if not codes and not message_ids:
        return []
    with session.no_autoflush:
        found = list(session.scalars(select(Token).where(
            or_(Token.code.in_(codes), Token.outbox_message_id.in_(message_ids)))
            .order_by(Token.id)))
    known = transaction_state.setdefault(session, _PREFETCHED, _Prefetched)
    known.codes |= codes
    known.message_ids |= message_ids
    for token in found:
        known.by_code[token.code] = token
        if token.outbox_message_id:
            known.by_message_id[token.outbox_message_id] = token  # ordered by id: newest wins
    return found


def find(session: Session, code: str) -> Token | None:
    """The token with that code, or ``None``."""
    code = code.upper()
    known: _Prefetched | None = transaction_state.get(session, _PREFETCHED)
    if known is not None and code in known.codes:
        return known.by_code.get(code)
    with session.no_autoflush:
        return session.scalars(_BY_CODE, {"code": code}).first()


def find_by_message_ids(session: Session, message_ids: list[str]) -> Token | None:
    """The newest token issued with one of our mails named in ``In-Reply-To``/``References``."""
    if not message_ids:
        return None
    known: _Prefetched | None = transaction_state.get(session, _PREFETCHED)
    if known is not None and known.message_ids.issuperset(message_ids):
        found = [known.by_message_id[m] for m in message_ids if m in known.by_message_id]
        return max(found, key=lambda token: token.id, default=None)
    with session.no_autoflush:
        return session.scalars(_BY_MESSAGE_IDS, {"ids": list(message_ids)}).first()
