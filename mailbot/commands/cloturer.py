"""``CLOTURER E-xxxx motif``: close an entry (withdrawn, moved away, deceased, duplicate, unreachable)."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "CLOTURER"
USAGE = "CLOTURER E-xxxx motif"
EXAMPLE = "CLOTURER E-7QK2M9 déménagé à Lyon"
HELP = (f"clôturer l'inscription ; motif : {operations.ACCEPTED_REASONS}, "
        "suivi si besoin d'un commentaire")
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Close the entry with the motif given."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    return done(operations.close_entry(ctx.op, entry, args.after_first()), entry.ref)
