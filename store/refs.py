"""Short human references and random tokens."""

from __future__ import annotations

import secrets

# Crockford base32 without I, L, O, U: easy to read over the phone.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    """A random code of ``length`` characters (5 bits each: one random byte's low five bits,
    uniform since 256 is a multiple of 32)."""
    return "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(length))


def new_entry_ref() -> str:
    """An entry reference such as ``E-7QK2M9`` (30 random bits; uniqueness is checked by the caller)."""
    return "E-" + random_code(6)


def normalise_ref(text: str) -> str:
    """Read a reference as people type it (``e-7qk2m9``, ``E 7QK2M9``, ``7QK2M9``)."""
    cleaned = text.strip().upper().replace(" ", "-")
    if not cleaned.startswith("E-"):
        cleaned = "E-" + cleaned.removeprefix("E")
    body = cleaned[2:].replace("O", "0").replace("I", "1").replace("L", "1")
    return "E-" + body
