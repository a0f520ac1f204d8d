"""A coordinator's mail: run each command it holds, answer with each command's result.

Commands run in the mail's transaction, each in its own savepoint: a refused
command (unknown reference, wrong state…) or an unexpected failure leaves
nothing behind, and the others still apply. Every command is audited with
its author (``coordinator:<address>``). The answer is threaded to the mail,
lists each command with its result, and adds the help text when something
was not understood.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mailbot.commands import help_text
from mailbot.commands.base import CommandArgs, CommandContext, CommandResult
from mailbot.commands.parser import CommandLine, parse_commands, starts_with_command
from mailbot.errors import MailbotError
from mailbot.operations.context import OpContext
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows.base import Outcome, Work, escalate, processed
from parsers.mime import decode_header_text
from parsers.quoting import new_text
from store import audit
from store.models import InboundState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineResult:
    """One line of the answer: the command as written and what came of it."""

    line: str
    ok: bool
    message: str


def _run_one(ctx: CommandContext, item: CommandLine) -> CommandResult:
    """Run one command in a savepoint; a refusal or a crash rolls back only this command."""
    command = item.command
    if command is None:
        return CommandResult(False, "ligne non comprise : elle ne commence par aucune commande "
                                    "connue (voir la liste ci-dessous)")
    args = CommandArgs(words=item.words, rest=item.rest, usage=command.USAGE,
                       block=tuple(item.block))
    session = ctx.op.session
    try:
        with session.begin_nested():
            return command.run(ctx, args)
    except MailbotError as error:
        return CommandResult(False, f"{error} — rien n'a été modifié")
    except Exception as error:  # a bug must not cost the other commands
        log.critical("command %s from inbound %s failed (%s)", command.NAME, ctx.op.inbound_id,
                     type(error).__name__)
        return CommandResult(False, "erreur interne : rien n'a été modifié ; réessayez plus tard "
                                    "ou signalez-le à l'administrateur du robot")


def run_commands(ctx: CommandContext, lines: list[CommandLine], limit: int) -> list[LineResult]:
    """Run up to ``limit`` commands, auditing each with its author; return one result per line."""
    results = []
    for index, item in enumerate(lines):
        if index >= limit:
            result = CommandResult(False, f"non exécutée : au plus {limit} commandes par message")
        else:
            result = _run_one(ctx, item)
        name = item.command.NAME if item.command else "inconnue"
        audit.record(ctx.op.session, actor=ctx.op.actor, action=f"command.{name.lower()}",
                     object_type="command", object_id=result.target,
                     after={"ok": result.ok}, inbound_message_id=ctx.op.inbound_id, at=ctx.op.now)
        results.append(LineResult(item.line, result.ok, result.message))
    return results


def handle_commands(work: Work) -> Outcome:
    """Read a coordinator's mail as commands, run them, and answer with their results."""
    assert work.sender is not None  # coordinators are known senders
    if work.app.config.gpg.require_signed_commands and work.signed_by is None:
        return escalate("commandes non signées (OpenPGP) alors que la signature est exigée : "
                        "rien n'a été exécuté", kind="command_unsigned")
    subject = decode_header_text(str(work.msg.get("Subject", "")))
    lines = parse_commands(new_text(work.body), subject)
    ctx = CommandContext(op=OpContext(work.app, work.session, f"coordinator:{work.sender}",
                                      work.now, inbound_id=work.row.id), sender=work.sender)
    results = run_commands(ctx, lines, work.app.config.coordination.max_commands_per_mail)
    failed = sum(1 for r in results if not r.ok)
    enqueue_mail(work.app, work.session, kind="command_reply", to=work.sender,
                 template="command_reply", now=work.now, health_data=True, thread=work.thread,
                 inbound_id=work.row.id,
                 context={"results": results, "done": len(results) - failed, "failed": failed,
                          "help": help_text() if failed or not results else ""})
    log.info("inbound %s: %d command(s), %d refused", work.row.id, len(results), failed)
    return processed(f"{len(results)} commande(s), {failed} refusée(s)", kind="command")


def refuse_commands(work: Work) -> Outcome | None:
    """Quarantine a mail of commands from an address that is not a coordinator's, else ``None``."""
    if not starts_with_command(new_text(work.body)):
        return None
    log.warning("inbound %s: commands from a non-coordinator address, quarantined", work.row.id)
    return Outcome(InboundState.QUARANTINED,
                   "commandes de coordination envoyées par une adresse qui n'est pas coordinatrice",
                   kind="command_refused")
