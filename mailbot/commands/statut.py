"""``STATUT E-xxxx``: where an entry stands."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "STATUT"
USAGE = "STATUT E-xxxx"
EXAMPLE = "STATUT E-7QK2M9"
HELP = "où en est l'inscription : état, ancienneté, patient, ce qui manque, dernier message"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Describe the entry."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    return done(operations.entry_status(ctx.op, entry), entry.ref)
