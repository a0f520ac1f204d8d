"""``ROUVRIR E-xxxx``: put a closed or resolved entry back on the list, at its original rank."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "ROUVRIR"
USAGE = "ROUVRIR E-xxxx"
EXAMPLE = "ROUVRIR E-7QK2M9"
HELP = "remettre une inscription clôturée ou résolue en attente, à sa date d'inscription d'origine"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Reopen the entry."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    return done(operations.reopen_entry(ctx.op, entry), entry.ref)
