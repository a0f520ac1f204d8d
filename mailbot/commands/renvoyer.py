"""``RENVOYER E-xxxx``: send the entry's last mail again (a fresh copy, same recipient)."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "RENVOYER"
USAGE = "RENVOYER E-xxxx"
EXAMPLE = "RENVOYER E-7QK2M9"
HELP = "renvoyer le dernier message envoyé pour cette inscription, au même destinataire"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Re-send the last mail."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    return done(operations.resend_last_mail(ctx.op, entry), entry.ref)
