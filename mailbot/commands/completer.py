"""``COMPLETER E-xxxx`` followed by form lines: complete or correct an entry."""

from __future__ import annotations

from mailbot import operations
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult, done

NAME = "COMPLETER"
USAGE = "COMPLETER E-xxxx, puis une rubrique par ligne (Rubrique : valeur)"
EXAMPLE = "COMPLETER E-7QK2M9 puis, à la ligne, Commune : Angoulême"
HELP = ("compléter ou corriger la fiche : les lignes suivantes, une rubrique par ligne, "
        "comme dans la fiche de saisine")
BLOCK = True


def run(ctx: CommandContext, args: CommandArgs) -> CommandResult:
    """Merge the lines that follow (and any written after the reference)."""
    entry = operations.find_entry(ctx.op, args.first("la référence"))
    lines = [line for line in (args.after_first(), *args.block) if line.strip()]
    if not lines:
        return CommandResult(False, "aucune ligne à compléter sous la commande : écrivez "
                                    "par exemple, à la ligne, « Commune : Angoulême »", entry.ref)
    return done(operations.complete_entry(ctx.op, entry, "\n".join(lines)), entry.ref)
