"""GPs' mail commands, from their registered address: PAUSE, REPRISE, CAPACITE n, DEMANDE n.

One small handler per command, each with its help line (:data:`COMMANDS`);
each is answered by mail (``DEMANDE n`` by the proposals themselves, plus a
word when fewer than ``n`` could be sent). Anything else a GP writes without
a proposal token goes to the coordinators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailbot.matching.offer import COMMAND_HELP, gp_context
from mailbot.matching.round import fill_gp, gp_usage
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows.base import Outcome, Work, escalate, processed
from parsers.mime import decode_header_text
from parsers.quoting import new_text
from parsers.replies import GPReply, classify_gp_reply
from store import gps
from store.models_matching import GP

Handler = Callable[[Work, GP, GPReply], Outcome]


def _answer(work: Work, gp: GP, template: str, **context: Any) -> None:
    enqueue_mail(work.app, work.session, kind=template, to=gp.email, template=template,
                 now=work.now, health_data=True, thread=work.thread, inbound_id=work.row.id,
                 context={**gp_context(gp), **context})


def _pending_and_month(work: Work, gp: GP) -> dict[str, int]:
    use = gp_usage(work.app, work.session, gp, work.now)
    return {"pending": use.pending, "accepted_this_month": use.accepted_this_month}


def pause(work: Work, gp: GP, reply: GPReply) -> Outcome:
    """PAUSE: no more proposals until REPRISE; open proposals stay open."""
    gps.set_accepting(work.session, gp, False, now=work.now, actor=work.actor,
                      inbound_id=work.row.id)
    _answer(work, gp, "gp_paused", **_pending_and_month(work, gp))
    return processed("médecin en pause", kind="gp_pause")


def resume(work: Work, gp: GP, reply: GPReply) -> Outcome:
    """REPRISE: proposals again, from the next round (or DEMANDE n at once)."""
    gps.set_accepting(work.session, gp, True, now=work.now, actor=work.actor,
                      inbound_id=work.row.id)
    _answer(work, gp, "gp_resumed", **_pending_and_month(work, gp))
    return processed("médecin disponible à nouveau", kind="gp_resume")


def capacity(work: Work, gp: GP, reply: GPReply) -> Outcome:
    """CAPACITE n: at most n new patients a month."""
    assert reply.number is not None
    gps.set_capacity(work.session, gp, reply.number, now=work.now, actor=work.actor,
                     inbound_id=work.row.id)
    _answer(work, gp, "gp_capacity", **_pending_and_month(work, gp))
    return processed("capacité mensuelle changée", kind="gp_capacity")


def request(work: Work, gp: GP, reply: GPReply) -> Outcome:
    """DEMANDE n: n proposals now (within the monthly capacity)."""
    assert reply.number is not None
    wanted = reply.number
    fill = fill_gp(work.app, work.session, gp, work.now, kind="request", want=wanted,
                   actor=work.actor, inbound_id=work.row.id)
    gps.record_event(work.session, gp, "request", now=work.now, actor=work.actor,
                     inbound_id=work.row.id,
                     detail={"asked": wanted, "sent": len(fill.proposals),
                             "limited_by": fill.limited_by})
    if len(fill.proposals) < wanted:
        _answer(work, gp, "gp_request", asked=wanted, sent=len(fill.proposals),
                limited_by=fill.limited_by, **_pending_and_month(work, gp))
    return processed(f"{len(fill.proposals)} proposition(s) sur demande", kind="gp_request")


@dataclass(frozen=True)
class Command:
    """A GP mail command: the intent read by the classifier, its help line, its handler."""

    intent: str
    help: str
    run: Handler


COMMANDS: tuple[Command, ...] = tuple(
    Command(intent, COMMAND_HELP[intent], handler)
    for intent, handler in (("pause", pause), ("resume", resume), ("capacity", capacity),
                            ("request", request)))
COMMAND_INTENTS = frozenset(c.intent for c in COMMANDS)


def run_command(work: Work, gp: GP, reply: GPReply) -> Outcome:
    """Run the command a GP's mail contains (``reply.intent`` in :data:`COMMAND_INTENTS`)."""
    for command in COMMANDS:
        if command.intent == reply.intent:
            return command.run(work, gp, reply)
    raise ValueError(f"not a command: {reply.intent}")


def handle_gp_mail(work: Work) -> Outcome:
    """A GP's mail without a proposal token: a command, or something for the coordinators."""
    gp = gps.get_by_email(work.session, work.sender or "")
    if gp is None:  # pragma: no cover - the role comes from the same table
        return escalate("message d'un médecin inconnu", kind="gp_mail")
    body = work.body
    reply = classify_gp_reply(body, context="any")
    if reply.intent == "unclear" and not new_text(body).strip():
        reply = classify_gp_reply(decode_header_text(str(work.msg.get("Subject", ""))),
                                  context="any")
    if reply.intent in COMMAND_INTENTS:
        return run_command(work, gp, reply)
    if reply.intent != "unclear" or classify_gp_reply(body, context="proposal").intent in (
            "accept", "decline"):
        return escalate("réponse d'un médecin sans référence de proposition ou de suivi",
                        kind="gp_reply_without_token")
    return escalate("message de médecin à lire", kind="gp_mail")
