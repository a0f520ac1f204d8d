"""``PRIORITAIRE E-xxxx``: mark an entry as a priority for the next proposals."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "PRIORITAIRE"
USAGE = "PRIORITAIRE E-xxxx"
EXAMPLE = "PRIORITAIRE E-7QK2M9"
HELP = "rendre l'inscription prioritaire pour les prochaines propositions aux médecins"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Set the entry's priority flag."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    return done(operations.prioritize_entry(ctx.op, entry), entry.ref)
