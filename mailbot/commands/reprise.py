"""``REPRISE <rpps>``: send proposals to a GP again."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "REPRISE"
USAGE = "REPRISE <RPPS du médecin>"
EXAMPLE = "REPRISE 10001234567"
HELP = "proposer de nouveau des patients à ce médecin"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Resume the GP."""
    rpps = args.first("le numéro RPPS")
    return done(operations.set_gp_accepting(ctx.op, rpps, True), rpps)
