"""The one minimal configuration (Maildir + SQLite), written as TOML by the demo, the tests
and the benchmarks.

:func:`minimal_sections` gives the spec's embedded configuration as
``{section: {key: value}}``; callers change what they need with :func:`merged`
and write it with :func:`render_toml`, whose output :func:`~mailbot.config.load_config`
reads back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ADDRESS = "liste-attente@cpts-exemple.mssante.fr"
NAME = "CPTS Exemple"
PARTNERS = ("dac16.mssante.fr", "ch-exemple.mssante.fr", "pharmacie.moreau@pharmacien.mssante.fr")
COORDINATORS = ("coordination@cpts-exemple.mssante.fr",)

Sections = dict[str, dict[str, Any]]


def minimal_sections(database: Mapping[str, Any] | None = None) -> Sections:
    """The minimal embedded configuration: Maildir in ``var/inbox`` and ``var/outbox``, the
    SQLite file ``var/mailbot.db`` (or ``database``), the demo's partners and coordinator."""
    return {
        "identity": {"address": ADDRESS, "name": NAME},
        "database": dict(database) if database is not None else {"url": "sqlite:///var/mailbot.db"},
        "inbound": {"transport": "maildir", "path": "var/inbox"},
        "outbound": {"transport": "maildir", "path": "var/outbox"},
        "senders": {"partners": list(PARTNERS), "coordinators": list(COORDINATORS)},
    }


def merged(sections: Sections, extra: Mapping[str, Mapping[str, Any]] | None) -> Sections:
    """A copy of ``sections`` with the keys of ``extra`` added or replaced, section by section."""
    out = {name: dict(values) for name, values in sections.items()}
    for name, values in (extra or {}).items():
        out.setdefault(name, {}).update(values)
    return out


def toml_value(value: Any) -> str:
    """A Python value as TOML: strings, numbers, booleans, lists and inline tables."""
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def render_toml(sections: Mapping[str, Mapping[str, Any]], *, comment: str | None = None,
                routes: list[Mapping[str, Any]] | None = None) -> str:
    """A TOML file from ``{section: {key: value}}``, with ``[[outbound.routes]]`` tables for
    ``routes`` and an optional ``#`` comment on top."""
    lines = [f"# {line}" for line in comment.splitlines()] if comment else []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in values.items())
        lines.append("")
    for route in routes or []:
        lines.append("[[outbound.routes]]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in route.items())
        lines.append("")
    return "\n".join(lines)
