"""Reading bounces (delivery status notifications): who failed, how badly, and about which mail.

:func:`analyse_bounce` takes the raw bytes of a bounce and returns the failed
recipients, each *permanent* (unknown mailbox, domain gone: ``Action: failed``,
``5.x.x``) or *temporary* (``Action: delayed``, ``4.x.x``, mailbox full on
some servers), plus the Message-IDs of the returned original mail.

RFC 3464 reports and the usual non-standard shapes (Exim, qmail, Postfix,
Exchange…) are read by `flufl.bounce` (Mailman's detector set); what it
does not recognise — French provider texts among them — is read by a careful
text heuristic that only looks at the notification text, never at the
returned message. Pure and total: never raises on any input.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
import re
from dataclasses import dataclass

from parsers.lean_mime import parse_message
from parsers.mime import decode_bytes, decode_header_text

__all__ = ["BounceFailure", "BounceReport", "analyse_bounce"]

# flufl.bounce logs every detector it tries at INFO: keep our logs to ids and counts.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"(?<![\d.])([45])\d\d(?=[\s-])")
_ADDRESS = re.compile(r"<?([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>?")
_MESSAGE_ID = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]+@[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|noreply|no-reply)@",
                     re.IGNORECASE)
# Where a notification text stops and the returned message begins.
_ORIGINAL_STARTS = re.compile(
    r"^(?:-{2,}.*(?:original message|message d'origine|message original|copy of the message|"
    r"below this line|returned message|en-t[êe]tes? du message|undelivered message).*|"
    r"(?:received|return-path|from|subject|objet|de)\s*:.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_TEMPORARY_WORDS = re.compile(
    r"(delay(?:ed)?|will (?:be )?retr(?:y|ied)|still (?:being )?retr|not yet been delivered|"
    r"temporar|retard|diff[ée]r[ée]|nouvel(?:le)? (?:essai|tentative)|r[ée]essai|"
    r"n'a pas encore (?:pu )?[ée]t[ée] (?:remis|distribu))",
    re.IGNORECASE,
)
_FAILURE_WORDS = re.compile(
    r"(undeliver|could not be delivered|couldn't be delivered|wasn't delivered|delivery (?:has )?failed|"
    r"permanent(?:e|ly)? (?:error|failure|fatal)|user unknown|no such user|mailbox unavailable|"
    r"address not found|does not exist|n'existe pas|inconnu|introuvable|non remis|"
    r"n'a pas pu [êe]tre (?:remis|distribu|d[ée]livr)|[ée]chec|rejet[ée]|refus[ée]|invalide)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BounceFailure:
    """One failed recipient: lower-case address, permanent or not, DSN status code if known."""

    address: str
    permanent: bool
    status: str | None = None


@dataclass(frozen=True)
class BounceReport:
    """What a bounce says: failed recipients and the returned mail's Message-IDs (with ``<>``)."""

    failures: tuple[BounceFailure, ...] = ()
    message_ids: tuple[str, ...] = ()

    @property
    def permanent(self) -> tuple[str, ...]:
        """Addresses that failed for good."""
        return tuple(f.address for f in self.failures if f.permanent)

    @property
    def temporary(self) -> tuple[str, ...]:
        """Addresses that failed for now (the server keeps trying, or the box is full)."""
        return tuple(f.address for f in self.failures if not f.permanent)


def _decode_address(value: bytes | str) -> str:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    return text.strip().strip("<>").lower()


def _dsn_fields(msg: email.message.Message) -> dict[str, tuple[str, str | None]]:
    """``address → (action, status)`` from every ``message/delivery-status`` part."""
    found: dict[str, tuple[str, str | None]] = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        payload = part.get_payload()
        for block in payload if isinstance(payload, list) else []:
            if not isinstance(block, email.message.Message):
                continue
            recipient = str(block.get("Original-Recipient") or block.get("Final-Recipient") or "")
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if "@" not in address:
                continue
            status_match = _STATUS.search(str(block.get("Status", "")))
            status = status_match.group(0) if status_match else None
            found.setdefault(address, (str(block.get("Action", "")).strip().lower(), status))
    return found


def _notification_text(msg: email.message.Message) -> str:
    """The human-readable notification, without the returned message."""
    chunks: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype.startswith("message/") or ctype == "text/rfc822-headers":
            break  # the returned message (and everything after it) is not ours to read
        if part.is_multipart() or not ctype.startswith("text/"):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            text = decode_bytes(data, part.get_content_charset())
            if ctype == "text/html":
                text = re.sub(r"<[^>]+>", " ", text)
            chunks.append(text)
        if chunks and ctype == "text/plain":
            break  # first plain part is the notification; html alternatives repeat it
    text = "\n".join(chunks)
    cut = _ORIGINAL_STARTS.search(text)
    return text[:cut.start()] if cut else text


def _severity(text: str, subject: str, status: str | None) -> bool | None:
    """True = permanent, False = temporary, None = not a failure we can tell."""
    if status:
        return status.startswith("5") if status[0] in "45" else None
    codes = {m.group(1) for m in _STATUS.finditer(text)} | {m.group(1) for m in _SMTP_CODE.finditer(text)}
    if "5" in codes:
        return True
    if "4" in codes or _TEMPORARY_WORDS.search(subject) or _TEMPORARY_WORDS.search(text):
        return False
    if _FAILURE_WORDS.search(subject) or _FAILURE_WORDS.search(text):
        return True
    return None


def _heuristic(msg: email.message.Message, own: set[str]) -> list[BounceFailure]:
    """Failed recipients read from the notification text (non-standard bounces)."""
    text = _notification_text(msg)
    subject = decode_header_text(msg.get("Subject", ""))
    named = [a.strip().lower() for a in str(msg.get("X-Failed-Recipients", "")).split(",") if "@" in a]
    candidates = named or [m.group(1).lower() for m in _ADDRESS.finditer(text)]
    status_match = _STATUS.search(text)
    permanent = _severity(text, subject, status_match.group(0) if status_match else None)
    if permanent is None:
        return []
    failures: dict[str, BounceFailure] = {}
    for address in candidates:
        if address in own or _DAEMON.match(address):
            continue
        failures.setdefault(address, BounceFailure(address, permanent,
                                                   status_match.group(0) if status_match else None))
    return list(failures.values())


def _message_ids(msg: email.message.Message, raw_text: str) -> tuple[str, ...]:
    """Message-IDs of the returned mail: attached headers first, then any quoted header line."""
    ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part.is_multipart():
            inner = part.get_payload(0)
            if isinstance(inner, email.message.Message) and inner.get("Message-ID"):
                ids.append(str(inner.get("Message-ID")).strip())
        elif ctype == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                ids += _MESSAGE_ID.findall(decode_bytes(data))
    own = str(msg.get("Message-ID", "")).strip()
    ids += _MESSAGE_ID.findall(raw_text.split("\n\n", 1)[-1])  # body only: not the bounce's own
    ids += re.findall(r"<[^<>\s]+@[^<>\s]+>", str(msg.get("In-Reply-To", "")) + " "
                      + str(msg.get("References", "")))
    return tuple(dict.fromkeys(i for i in ids if i and i != own))


def analyse_bounce(raw: bytes, *, own_addresses: tuple[str, ...] = ()) -> BounceReport:
    """Read a bounce; ``own_addresses`` (ours, the sender's) are never taken for failed recipients."""
    try:
        msg = parse_message(raw)
        raw_text = decode_bytes(raw).replace("\r\n", "\n")
        own = {a.lower() for a in own_addresses}
        dsn = _dsn_fields(msg)
        text = _notification_text(msg)
        text_status = _STATUS.search(text)
        # What the notification's own codes and words say (for detectors that only guess).
        text_permanent = _severity(text, decode_header_text(msg.get("Subject", "")), None)
        failures: dict[str, BounceFailure] = {}
        from flufl.bounce import all_failures  # long to import: only when a bounce comes

        try:
            temporary, permanent = all_failures(msg)
        except Exception:  # a detector choking on a broken message: fall back to the text
            temporary, permanent = frozenset(), frozenset()
        for value, is_permanent in [(t, False) for t in temporary] + [(p, True) for p in permanent]:
            address = _decode_address(value)
            if "@" not in address or address in own:
                continue
            action, status = dsn.get(address, ("", None))
            if not action and text_permanent is not None:
                is_permanent = text_permanent  # a heuristic detector's guess yields to stated codes
            status = status or (text_status.group(0) if text_status else None)
            failures[address] = BounceFailure(address, is_permanent, status)
        if not failures:
            for item in _heuristic(msg, own):
                failures[item.address] = item
        return BounceReport(tuple(failures.values()), _message_ids(msg, raw_text))
    except Exception:  # pragma: no cover - defensive: a parser never raises
        return BounceReport()
