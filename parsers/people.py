"""How people and their phone numbers are written for a reader: ``DURAND Marie``,
``07 98 76 54 32``, "cette patiente" when she is a woman. Pure functions, no IO."""

from __future__ import annotations

import re

_E164_FR = re.compile(r"^\+33([1-9]\d{8})$")


def first_name(prenom: str) -> str:
    """``MARIE`` or ``marie`` → ``Marie``, ``jean-pierre`` → ``Jean-Pierre``; a first name
    already in mixed case is kept as written (``McKenzie``)."""
    if prenom.isupper() or prenom.islower():
        return re.sub(r"[^\W\d_]+", lambda m: m[0][:1].upper() + m[0][1:].lower(), prenom)
    return prenom


def person_name(nom: object, prenom: object = None) -> str:
    """``NOM Prénom`` whatever case they were written in (``Durand marie`` → ``DURAND Marie``)."""
    parts = []
    if isinstance(nom, str) and nom.strip():
        parts.append(nom.strip().upper())
    if isinstance(prenom, str) and prenom.strip():
        parts.append(first_name(prenom.strip()))
    return " ".join(parts)


def phone_display(phone: object) -> str:
    """``+33798765432`` → ``07 98 76 54 32``; other numbers as stored."""
    if not isinstance(phone, str):
        return "" if phone is None else str(phone)
    found = _E164_FR.match(phone)
    if not found:
        return phone
    digits = "0" + found[1]
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def is_woman(sexe: object) -> bool:
    """True when the stored sex says a woman (``F``)."""
    return isinstance(sexe, str) and sexe.strip().upper().startswith("F")
