"""``PAUSE <rpps>``: stop sending proposals to a GP."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "PAUSE"
USAGE = "PAUSE <RPPS du médecin>"
EXAMPLE = "PAUSE 10001234567"
HELP = "ne plus proposer de patients à ce médecin, jusqu'à REPRISE"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Pause the GP."""
    rpps = args.first("le numéro RPPS")
    return done(operations.set_gp_accepting(ctx.op, rpps, False), rpps)
