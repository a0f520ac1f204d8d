"""What is wrong with a configuration file, said in French: the key, and what is expected."""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from mailbot.errors import ConfigError

_EXPECTED = {
    "missing": "cette clé est obligatoire",
    "extra_forbidden": "clé inconnue : supprimez-la ou corrigez son nom (voir config.example.toml)",
}

# pydantic's error types → what is expected, in French ({…} filled from the error's context).
_TYPES = {
    "int_parsing": "un nombre entier, ex. 30", "int_type": "un nombre entier, ex. 30",
    "int_from_float": "un nombre entier, sans virgule",
    "float_parsing": "un nombre, ex. 2.5", "float_type": "un nombre, ex. 2.5",
    "bool_parsing": "true ou false", "bool_type": "true ou false",
    "string_type": "du texte entre guillemets, ex. \"valeur\"",
    "list_type": "une liste entre crochets, ex. [\"a\", \"b\"]",
    "dict_type": "une table, ex. { clé = \"valeur\" }",
    "greater_than": "un nombre plus grand que {gt}",
    "greater_than_equal": "un nombre supérieur ou égal à {ge}",
    "less_than": "un nombre plus petit que {lt}",
    "less_than_equal": "un nombre inférieur ou égal à {le}",
    "literal_error": "une de ces valeurs : {expected}",
    "model_type": "une section (table TOML)",
}

# tomllib's messages (Python 3.11) → French.
_TOML = (
    ("Illegal character '\\n'", "guillemet fermant manquant : la chaîne va jusqu'au bout de la ligne"),
    ("Expected '=' after a key", "il manque « = » après le nom de la clé"),
    ("Invalid value", "valeur illisible : du texte s'écrit entre guillemets (\"…\"), un nombre "
                      "sans guillemets, un booléen true ou false"),
    ("Unterminated string", "guillemet fermant manquant"),
    ("Illegal character", "caractère interdit dans une chaîne (retour à la ligne ?)"),
    ("Cannot overwrite a value", "clé écrite deux fois"),
    ("Cannot declare", "section écrite deux fois"),
    ("Expected newline or end of document", "texte en trop après la valeur : une clé = valeur "
                                            "par ligne, les commentaires après #"),
    ("Unclosed array", "liste non fermée : il manque « ] »"),
    ("Invalid initial character for a key part", "nom de clé illisible (lettres, chiffres, _ et -)"),
    ("Expected ']' at the end of a table declaration", "en-tête de section non fermé : il manque « ] »"),
    ("Invalid statement", "ligne illisible : attendu « clé = valeur » ou « [section] »"),
)
_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_error(error: tomllib.TOMLDecodeError, text: str, file: str) -> ConfigError:
    """A TOML syntax error in French, with its line and column and the line quoted."""
    message = str(error)
    french = next((fr for en, fr in _TOML if message.startswith(en)), "écriture non reconnue")
    where = _WHERE.search(message)
    if where is None:
        return ConfigError(f"syntaxe TOML invalide à la fin du fichier : {french}", file=file)
    line, column = int(where.group(1)), int(where.group(2))
    lines = text.splitlines()
    quoted = f" (« {lines[line - 1].strip()[:80]} »)" if 0 < line <= len(lines) else ""
    return ConfigError(f"syntaxe TOML invalide ligne {line}, colonne {column}{quoted} : {french}",
                       file=file)


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


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The section models an annotation may hold (unions, lists and ``Annotated`` unwrapped)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [model for arg in typing.get_args(annotation) for model in _models(arg)]
    return []


def _known_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where ``loc`` (an unknown key's location) stands."""
    models = [root]
    for item in loc[:-1]:
        if not isinstance(item, str):
            continue
        nested = [model for parent in models if item in parent.model_fields
                  for model in _models(parent.model_fields[item].annotation)]
        if nested:
            models = nested
    keys: list[str] = []
    for model in models:
        for name, info in model.model_fields.items():
            if not info.exclude:
                keys.append(info.alias or name)
    return list(dict.fromkeys(keys))


def from_validation(error: ValidationError, file: str, model: type[BaseModel]) -> ConfigError:
    """The first error of a validation, as a :class:`ConfigError` naming the key (``model`` is
    the validated class, whose keys are suggested for an unknown one).

    A misspelt key (``adresse``) comes first: it also makes the right one (``address``)
    missing, and the suggestion is what the user needs to read."""
    errors = error.errors()
    typos = [e for e in errors if e["type"] == "extra_forbidden" and e["loc"]
             and isinstance(e["loc"][-1], str)
             and difflib.get_close_matches(e["loc"][-1], _known_keys(model, tuple(e["loc"])),
                                           n=1, cutoff=0.6)]
    first = typos[0] if typos else errors[0]
    loc = tuple(first["loc"])
    key = _format_loc(loc)
    kind = first["type"]
    if kind == "extra_forbidden" and loc and isinstance(loc[-1], str):
        close = difflib.get_close_matches(loc[-1], _known_keys(model, loc), n=1, cutoff=0.6)
        if close:
            return ConfigError(f"clé inconnue : vouliez-vous dire « {close[0]} » ?", file=file,
                               key=key, expected=f"{close[0]} = … (voir config.example.toml)")
    if kind in _EXPECTED:
        return ConfigError(_EXPECTED[kind], file=file, key=key)
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return ConfigError("transport inconnu ou absent", file=file, key=f"{key}.transport" if key else "transport",
                           expected="« maildir », « imap » (entrée) ou « smtp » (sortie)")
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    elif kind in _TYPES:
        context = {name: str(value) for name, value in (first.get("ctx") or {}).items()}
        message = "attendu " + _TYPES[kind].format_map(context)
    value = first.get("input")
    shown = f" (valeur lue : {value!r})" if isinstance(value, str | int | float | bool) else ""
    more = len(error.errors()) - 1
    suffix = f" — et {more} autre(s) erreur(s) après correction de celle-ci" if more else ""
    return ConfigError(f"valeur invalide{shown} : {message}{suffix}", file=file, key=key)
