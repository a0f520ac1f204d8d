"""The readable text of a mail, whatever its MIME shape, charset or transfer encoding.

:func:`body_text` prefers ``text/plain`` in ``multipart/alternative`` and turns
HTML into text where a table row ``<tr><td>Label</td><td>Value</td></tr>``
becomes ``Label : Value``. Forwarded mails attached as ``message/rfc822`` are
included after a ``-------- Message transféré --------`` line. Nothing here
raises on a broken message: the worst answer is an empty string.
"""

from __future__ import annotations

import codecs
import email.header
import email.message
import re

from parsers.html_text import ZERO_WIDTH, html_to_text

FORWARD_SEPARATOR = "-------- Message transféré --------"
_MAX_DEPTH = 12
_SINGLE_BYTE = re.compile(r"^(?:iso8859-\d+|cp125\d|cp850|cp437|mac-[a-z]+|koi8-[ru]|utf-8)$")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


# ---------------------------------------------------------------- bytes → str

def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` with the declared charset, falling back to utf-8, cp1252, latin-1.

    Bytes that are valid UTF-8 win over a declared single-byte charset (a common
    lie of mail clients); latin-1 is read as windows-1252 (what clients mean by
    it); a declared charset that is unknown or does not decode is ignored.
    """
    try:
        declared = codecs.lookup(charset.strip(" \"'")).name if charset else ""
    except LookupError:
        declared = ""
    if declared in ("iso8859-1", "ascii"):
        declared = "cp1252"
    tries = ["utf-8"] if not declared or _SINGLE_BYTE.match(declared) else []
    for name in filter(None, [*tries, declared, "utf-8", "cp1252"]):
        try:
            return data.decode(name)
        except Exception:  # UnicodeDecodeError, or an exotic codec failing oddly
            continue
    return data.decode("latin-1")


def decode_header_text(value: object) -> str:
    """A header as text: RFC 2047 encoded words decoded, folding removed; never raises."""
    if value is None:
        return ""
    try:
        parts = email.header.decode_header(str(value))
    except Exception:  # malformed encoded words
        return " ".join(str(value).split())
    out: list[str] = []
    for chunk, charset in parts:
        text = decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
        out.append(text)
    joined = "".join(out) if any(isinstance(c, bytes) for c, _ in parts) else " ".join(out)
    return " ".join(joined.split())


def _part_text(part: email.message.Message) -> str:
    """The decoded payload of one leaf part (transfer encoding and charset undone)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # broken base64 / qp
        data = None
    if data is None:
        raw = part.get_payload()
        if not isinstance(raw, str):
            return ""
        data = raw.encode("utf-8", "surrogateescape")
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset()
    if charset is None and part.get_content_type() == "text/html":
        meta = _META_CHARSET.search(data[:4096])
        charset = meta[1].decode("ascii", "replace") if meta else None
    text = decode_bytes(data, charset)
    # get_param parses the header again: only when the parameter can be there at all.
    if "format" in str(part.get("content-type", "")).lower() and (
            str(part.get_param("format", "")).lower() == "flowed"):
        text = _unflow(text, str(part.get_param("delsp", "no")).lower() == "yes")
    return text


def _unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed soft line breaks."""
    out: list[str] = []
    buffer = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line[1:] if line.startswith(" ") else line
        if line.endswith(" ") and line != "-- ":
            buffer += line[:-1] if delsp else line
            continue
        out.append(buffer + line)
        buffer = ""
    if buffer:
        out.append(buffer)
    return "\n".join(out)


def header(msg: email.message.Message, name: str) -> str:
    """A header as decoded text (``""`` when absent or unreadable)."""
    try:
        value = msg.get(name)
    except Exception:  # malformed header: the email package may raise on access
        return ""
    if value is None:
        return ""
    text = str(value)
    return decode_header_text(text) if "=?" in text else text


# ---------------------------------------------------------------- MIME walk

_HTML_START = re.compile(r"\s*<(?:!doctype|html)\b", re.I)
_WORDS = re.compile(r"\w{3,}")


def _is_text_leaf(part: email.message.Message) -> bool:
    return part.get_content_maintype() == "text" and part.get_content_subtype() in ("plain", "html")


def _leaf_text(part: email.message.Message) -> str:
    try:
        text = _part_text(part)
        if part.get_content_subtype() == "html" or _HTML_START.match(text):
            return html_to_text(text)
        return text
    except Exception:  # one broken part must not hide the others
        return ""


def _covers(plain: str, html: str) -> bool:
    """True when the plain alternative says most of what the HTML one says (not a stub
    such as "Ce message est au format HTML")."""
    html_words = set(_WORDS.findall(html.lower()))
    if not html_words:
        return True
    plain_words = set(_WORDS.findall(plain.lower()))
    return len(html_words & plain_words) * 2 >= len(html_words)


def _alternative(part: email.message.Message, depth: int) -> str:
    """The best of the alternatives: plain text unless it is empty or a stub of the richer
    one (HTML, maybe inside ``multipart/related`` with its inline images)."""
    plain = rich = ""
    for sub in _children(part):
        if sub.get_content_type() == "text/plain" and not plain.strip():
            plain = _leaf_text(sub)
        elif not rich.strip():
            rich = _text_of(sub, depth + 1)
    return plain if plain.strip() and _covers(plain, rich) else rich or plain


def _children(part: email.message.Message) -> list[email.message.Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, email.message.Message)]
    return []


def _text_of(part: email.message.Message, depth: int) -> str:
    if depth > _MAX_DEPTH:
        return ""
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or (part.is_multipart() and ctype.startswith("message/")):
        inner = "\n\n".join(_text_of(sub, depth + 1) for sub in _children(part))
        return f"{FORWARD_SEPARATOR}\n{inner}" if inner.strip() else ""
    if part.is_multipart():
        if ctype == "multipart/alternative":
            return _alternative(part, depth)
        texts = (_text_of(sub, depth + 1) for sub in _children(part))
        return "\n\n".join(t for t in texts if t.strip())
    if _is_text_leaf(part) or (part.get_content_maintype() in ("multipart", "message")):
        return _leaf_text(part)
    return ""


def body_text(msg: email.message.Message) -> str:
    """The best readable text of ``msg`` (see module doc); ``""`` when there is none."""
    try:
        text = _text_of(msg, 0)
    except Exception:  # never raise on a broken message
        try:
            payload = msg.get_payload(decode=True)
            text = decode_bytes(payload) if isinstance(payload, bytes) else ""
        except Exception:
            text = ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(ZERO_WIDTH) if _ZERO_WIDTH_RE.search(text) else text
