"""Classification: what is this mail, and may the bot act on it?
May import workflows.base (the Verdict), config, store and parsers; inbound.dispatch imports it.

Rules live one per module (Mailman style), each with ``NAME``,
``DESCRIPTION`` and ``check(msg, ctx) -> Verdict | None``. :func:`classify`
runs them in order; the first verdict wins.
"""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify import (
    auto_reply,
    blocked_sender,
    bounce,
    by_role,
    dkim_signature,
    envelope_sender,
    loop,
    max_size,
    reply,
    unknown_sender,
)
from mailbot.inbound.classify.base import ClassifyContext, Rule
from mailbot.workflows.base import Verdict

# ``reply`` comes before ``unknown_sender``: a patient (in no directory) answering a recontact
# mail must reach the reply workflow, which checks the token against the database and
# quarantines a stranger there (forged or foreign token, no token) — see workflows/replies.py.
# Sender authentication (envelope, DKIM, an address quarantined for forged tokens) comes
# before anything acts on the mail, bounces and auto-replies included.
RULES: tuple[Rule, ...] = (loop, max_size, envelope_sender, dkim_signature, blocked_sender, bounce,
                           auto_reply, reply, unknown_sender, by_role)

__all__ = ["RULES", "ClassifyContext", "Verdict", "classify"]


def classify(msg: Message, ctx: ClassifyContext) -> Verdict:
    """Run the rules in order and return the first verdict."""
    for rule in RULES:
        verdict = rule.check(msg, ctx)
        if verdict is not None:
            return verdict
    raise AssertionError("by_role always decides")  # pragma: no cover
