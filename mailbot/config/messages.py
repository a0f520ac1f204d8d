"""What is wrong with a configuration file, said in French: the key, and what is expected."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mailbot.errors import ConfigError

_EXPECTED = {
    "missing": "cette clé est obligatoire",
    "extra_forbidden": "clé inconnue : supprimez-la ou corrigez son nom (voir config.example.toml)",
}


def _format_loc(loc: tuple[Any, ...]) -> str:
    """``("outbound", "routes", 0, "smtp", "host")`` → ``outbound.routes[1].host``.

    pydantic inserts the discriminator tag (``maildir``, ``imap``, ``smtp``)
    after a tagged union's position; people never wrote it, so it is dropped.
    """
    text = ""
    previous: Any = None
    for item in loc:
        if isinstance(item, int):
            text += f"[{item + 1}]"
        elif item in ("maildir", "imap", "smtp") and (previous == "inbound" or isinstance(previous, int)):
            pass
        else:
            text += f".{item}" if text else str(item)
        previous = item
    return text


def from_validation(error: ValidationError, file: str) -> ConfigError:
    first = error.errors()[0]
    key = _format_loc(tuple(first["loc"]))
    kind = first["type"]
    if kind in _EXPECTED:
        return ConfigError(_EXPECTED[kind], file=file, key=key)
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return ConfigError("transport inconnu ou absent", file=file, key=f"{key}.transport" if key else "transport",
                           expected="« maildir », « imap » (entrée) ou « smtp » (sortie)")
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = first.get("input")
    shown = f" (valeur lue : {value!r})" if isinstance(value, str | int | float | bool) else ""
    more = len(error.errors()) - 1
    suffix = f" — et {more} autre(s) erreur(s) après correction de celle-ci" if more else ""
    return ConfigError(f"valeur invalide{shown}: {message}{suffix}", file=file, key=key)
