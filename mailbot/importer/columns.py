"""The column mapping of ``mailbot import``: :mod:`parsers.referral.columns` (shared with the
batches attached to mails), plus the ``--map "Colonne=clé"`` overrides read from the command line.
"""

from __future__ import annotations

from mailbot.errors import UsageError
from parsers.referral.columns import (
    COMPOUND_KEYS,
    COMPOUND_NAMES,
    EXIT_REASON,
    GP,
    HEADER_SCAN_ROWS,
    IMPORT_KEYS,
    RECEIVED,
    REFERRER_EMAIL,
    RESOLVED,
    SKIP,
    STATUS,
    VALID_KEYS,
    Header,
    column_key,
    find_header,
)
from parsers.referral.labels import normalise

__all__ = [
    "COMPOUND_KEYS", "COMPOUND_NAMES", "EXIT_REASON", "GP", "HEADER_SCAN_ROWS", "IMPORT_KEYS",
    "RECEIVED", "REFERRER_EMAIL", "RESOLVED", "SKIP", "STATUS", "VALID_KEYS", "Header",
    "column_key", "find_header", "parse_overrides",
]


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``--map "Colonne=clé"`` options → ``{normalised header: key}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        header, sep, key = pair.rpartition("=")
        key = key.strip().lower()
        if not sep or not header.strip():
            raise UsageError(f"--map « {pair} » : attendu « Nom de colonne=clé »")
        if key not in VALID_KEYS:
            raise UsageError(f"--map « {pair} » : clé « {key} » inconnue (clés : "
                             + ", ".join(sorted(VALID_KEYS)) + ")")
        out[normalise(header)] = COMPOUND_NAMES.get(key, key)
    return out
