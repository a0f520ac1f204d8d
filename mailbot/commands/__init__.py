"""Commands coordinators send by mail, one module per command (like Mailman's ``eml_*.py``).
May import operations, workflows.base, outbound, the kernel, store and parsers; inbound imports it.

Each module has ``NAME`` (the word, upper case, without accents), ``USAGE``,
``EXAMPLE``, ``HELP`` (one French line), ``BLOCK`` (the following lines
belong to it, for ``COMPLETER``) and ``run(ctx, args) -> CommandResult``.
They call :mod:`mailbot.operations`, which the CLI calls too.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import cast

from mailbot.commands.base import Command

COMMAND_MODULES: tuple[str, ...] = (
    "statut", "cloturer", "rouvrir", "prioritaire", "proposer", "renvoyer", "completer",
    "pause", "reprise", "aide",
)


@cache
def commands() -> dict[str, Command]:
    """Every command module, keyed by its ``NAME``, in the order of the help text."""
    found = {}
    for name in COMMAND_MODULES:
        module = cast(Command, importlib.import_module(f"mailbot.commands.{name}"))
        found[module.NAME] = module
    return found


def help_text() -> str:
    """The help: one line per command, with its form and an example."""
    lines = ["Commandes (une par ligne, en majuscules ou non, accents facultatifs) :"]
    for command in commands().values():
        lines.append(f"- {command.USAGE} : {command.HELP} (ex. {command.EXAMPLE})")
    return "\n".join(lines)
