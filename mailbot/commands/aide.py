"""``AIDE``: the list of commands, one line each, with an example."""

from __future__ import annotations

from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "AIDE"
USAGE = "AIDE"
EXAMPLE = "AIDE"
HELP = "la liste des commandes"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Return the help text."""
    from mailbot.commands import help_text

    return done(help_text())
