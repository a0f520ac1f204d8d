"""PGP/MIME (RFC 3156) structure: which parts of a mail are signed, encrypted, and the signed bytes.

Pure functions over bytes and parsed messages; the cryptography itself is in
``mailbot.gpg``. Nothing here raises on a malformed mail: ``None`` means "not
the expected structure".
"""

from __future__ import annotations

import re
from email.message import Message

_EOL = re.compile(rb"\r?\n")
_HEADER_END = re.compile(rb"\r\n\r\n")


def canonical(raw: bytes) -> bytes:
    """``raw`` with CRLF line ends (the form a signature is computed over)."""
    return _EOL.sub(b"\r\n", raw)


def _protocol(msg: Message) -> str:
    value = msg.get_param("protocol")
    return value.strip().lower() if isinstance(value, str) else ""


def is_encrypted(msg: Message) -> bool:
    """True for ``multipart/encrypted; protocol="application/pgp-encrypted"``."""
    return (msg.get_content_type() == "multipart/encrypted"
            and _protocol(msg) == "application/pgp-encrypted")


def is_signed(msg: Message) -> bool:
    """True for ``multipart/signed; protocol="application/pgp-signature"``."""
    return (msg.get_content_type() == "multipart/signed"
            and _protocol(msg) == "application/pgp-signature")


def encrypted_data(msg: Message) -> bytes | None:
    """The armored OpenPGP message of a PGP/MIME encrypted mail (its second part)."""
    parts = msg.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        return None
    second = parts[1]
    if not isinstance(second, Message):
        return None
    data = second.get_payload(decode=True)
    return data if isinstance(data, bytes) and data.strip() else None


def split_headers(raw: bytes) -> tuple[bytes, bytes]:
    """The header block (ending in CRLF) and the body of a canonical entity."""
    match = _HEADER_END.search(raw)
    if match is None:
        return raw if raw.endswith(b"\r\n") else raw + b"\r\n", b""
    return raw[:match.start() + 2], raw[match.end():]


def signed_parts(raw: bytes, boundary: str) -> tuple[bytes, bytes] | None:
    """The signed entity (exact bytes, CRLF) and the signature of a multipart/signed ``raw``."""
    _headers, body = split_headers(canonical(raw))
    delimiter = b"--" + boundary.encode("ascii", "replace")
    lines = body.split(b"\r\n")
    marks = [i for i, line in enumerate(lines) if line.rstrip() in (delimiter, delimiter + b"--")]
    if len(marks) < 3:
        return None
    content = b"\r\n".join(lines[marks[0] + 1:marks[1]])
    signature_entity = b"\r\n".join(lines[marks[1] + 1:marks[2]])
    _sig_headers, signature = split_headers(signature_entity)
    if b"-----BEGIN PGP SIGNATURE-----" not in signature:
        return None
    return content, signature


def outer_headers(raw: bytes) -> bytes:
    """The header lines of ``raw`` that are not about its content (From, Subject, …), CRLF."""
    headers, _body = split_headers(canonical(raw))
    kept: list[bytes] = []
    keep = False
    for line in headers.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        keep = not (name.startswith(b"content-") or name == b"mime-version")
        if keep:
            kept.append(line)
    return b"".join(line + b"\r\n" for line in kept)


def content_entity(raw: bytes) -> bytes:
    """The MIME entity of ``raw`` without its outer headers: Content-* headers, blank line, body."""
    headers, body = split_headers(canonical(raw))
    kept: list[bytes] = []
    keep = False
    for line in headers.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        keep = line.split(b":", 1)[0].strip().lower().startswith(b"content-")
        if keep:
            kept.append(line)
    if not kept:
        kept = [b"Content-Type: text/plain; charset=us-ascii"]
    return b"".join(line + b"\r\n" for line in kept) + b"\r\n" + body


def _top_content_type(raw: bytes) -> bytes:
    headers, _body = split_headers(canonical(raw[:65536]))
    unfolded = re.sub(rb"\r\n[ \t]+", b" ", headers).lower()
    match = re.search(rb"^content-type:([^\r\n]*)", unfolded, re.MULTILINE)
    return match.group(1).strip() if match else b""


def looks_encrypted(raw: bytes) -> bool:
    """True when the top-level Content-Type of ``raw`` is PGP/MIME encrypted."""
    value = _top_content_type(raw)
    return value.startswith(b"multipart/encrypted") and b"application/pgp-encrypted" in value


def looks_signed(raw: bytes) -> bool:
    """True when the top-level Content-Type of ``raw`` is PGP/MIME signed."""
    value = _top_content_type(raw)
    return value.startswith(b"multipart/signed") and b"application/pgp-signature" in value
