"""``PROPOSER E-xxxx A <rpps>``: propose a waiting entry to one GP now."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done
from mailbot.errors import UsageError
from parsers.referral.labels import normalise

NAME = "PROPOSER"
USAGE = "PROPOSER E-xxxx A <RPPS du médecin>"
EXAMPLE = "PROPOSER E-7QK2M9 A 10001234567"
HELP = "proposer tout de suite ce patient à ce médecin (qui reçoit la proposition habituelle)"
BLOCK = False


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Propose the entry to the GP named by his RPPS (the word « A » / « à » is optional)."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    rest = [w for w in args.words[1:] if normalise(w) not in ("a", "au", "dr", "docteur")]
    if not rest:
        raise UsageError(f"il manque le numéro RPPS du médecin : écrivez « {USAGE} »")
    return done(operations.propose_entry(ctx.op, entry, "".join(rest)), entry.ref)
