"""Understanding a GP's reply: a proposal answer, a follow-up answer or a mail command.

:func:`classify_gp_reply` reads the new text of a reply (quoting removed) to a
proposal (accept / decline with its reason), to "êtes-vous devenu son médecin
traitant ?" (became_mt / not_mt / pending, with the day of the next
consultation when the GP names one) or to nothing in particular ("any": only
commands and explicit statements), and the commands PAUSE, REPRISE, CAPACITE n,
DEMANDE n. Precision first: a hedge, a condition, a question, an emotion or a
contradiction is ``unclear``; "not yet" is ``pending``, never a yes or a no.
Each result names its ``rule`` and ``evidence``. Pure and total.
"""

from __future__ import annotations

import datetime as dt
import re

from parsers import gp_reply_rules as G
from parsers.quoting import new_text
from parsers.reply_dates import named_day
from parsers.reply_text import NUMBER_WORDS, has, normalize
from parsers.reply_types import GPContext, GPIntent, GPReply

__all__ = ["classify_gp_reply", "first_match"]


def first_match(norm: str, patterns: tuple[re.Pattern[str], ...]) -> str | None:
    """The words the first matching pattern found in ``norm`` (stripped), or ``None``."""
    for p in patterns:
        m = p.search(norm)
        if m:
            return m.group(0).strip() or m.group(0)
    return None


def _number(raw: str) -> int | None:
    value = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw)
    return value if value is not None and value <= G.MAX_NUMBER else None


def _commands(norm: str) -> tuple[list[tuple[GPIntent, int | None]], bool]:
    """Commands found in ``norm`` and whether a command word lacks its number."""
    found: list[tuple[GPIntent, int | None]] = []
    if has(norm, G.PAUSE):
        found.append(("pause", None))
    if has(norm, G.RESUME):
        found.append(("resume", None))
    missing = False
    kinds: tuple[GPIntent, ...] = ("capacity", "request")
    for intent in kinds:
        raw = [_number(m.group(1)) for p in G.COMMAND_NUMBER[intent] for m in p.finditer(norm)]
        numbers = {n for n in raw if n is not None}
        if None in raw:
            missing = True
        if len(numbers) == 1:
            found.append((intent, numbers.pop()))
        elif len(numbers) > 1:
            found.append((intent, None))
            missing = True
        elif G.COMMAND_LINE[intent].search(norm):
            missing = True
    return found, missing


def _decline_reason(text: str) -> str | None:
    reason = " ".join(text.split())
    previous = None
    while previous != reason:
        previous = reason
        reason = G.DECLINE_LEAD.sub("", reason).strip()
        reason = G.DECLINE_TAIL.sub("", reason).strip()
    reason = reason.strip(" ,.;:!-–—")
    return reason or None


def _unclear(rule: str, evidence: str | None = None) -> GPReply:
    return GPReply("unclear", rule=rule, evidence=evidence or "")


def _blocked(norm: str, raw: str) -> GPReply | None:
    """Hedges, deferrals, contradictions and emotions: nobody decides those but a human."""
    checks: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
        ("hedged", G.HEDGES), ("deferred", G.DEFERRALS), ("contradictory", G.CONTRADICTIONS),
        ("question_or_emotion", G.EMOTIONS))
    for rule, patterns in checks:
        hit = first_match(norm, patterns)
        if hit is None and rule == "question_or_emotion" and re.search(r"\?|!!", raw):
            hit = "?" if "?" in raw else "!!"
        if hit is not None:
            return _unclear(rule, hit)
    return None


def _proposal(norm: str, text: str) -> GPReply:
    blocked = _blocked(norm, text)
    if blocked:
        return blocked
    accept = first_match(norm, G.ACCEPT)
    decline = first_match(norm, G.DECLINE) or (
        None if accept else first_match(norm, G.DECLINE_WEAK))
    if accept and decline:
        return _unclear("accept_and_decline", f"{accept} / {decline}")
    if accept and G.WEAK_ACCEPT.match(accept) and len(norm.split()) <= 4 and [
            p for p in G.ACCEPT if p.search(norm)] == [p for p in G.ACCEPT if p.search(accept)]:
        ack = first_match(norm, G.ACKNOWLEDGEMENTS)
        if ack:  # "ok merci", "ok noté": the mail was read, the patient not accepted
            return _unclear("acknowledgement", f"{accept} / {ack}")
    if accept:
        condition = first_match(norm, G.ACCEPT_BLOCKERS)
        if condition:
            return _unclear("conditional_accept", condition)
        return GPReply("accept", rule="accept_word", evidence=accept)
    if decline:
        condition = first_match(norm, G.DECLINE_BLOCKERS)
        if condition:
            return _unclear("conditional_decline", condition)
        return GPReply("decline", reason=_decline_reason(text), rule="decline_word",
                       evidence=decline)
    return _unclear("no_answer")


def _followup(norm: str, text: str, today: dt.date | None) -> GPReply:
    escalation = first_match(norm, G.FOLLOWUP_ESCALATIONS)
    if escalation:
        return _unclear("to_read", escalation)
    blocked = _blocked(norm, text)
    if blocked:
        return blocked
    became = first_match(norm, G.BECAME)
    not_mt = first_match(norm, G.NOT_MT)
    pending = first_match(norm, G.PENDING)
    strong_no = first_match(norm, G.NOT_MT_STRONG)
    day = named_day(norm, text, today) if today is not None else None
    if day is not None and today is not None and day <= today:
        day = None
    if became and (not_mt or pending or re.search(r"\bmais\b", norm)):
        return _unclear("contradictory", f"{became} / {not_mt or pending or 'mais'}")
    if strong_no and pending:
        return _unclear("contradictory", f"{strong_no} / {pending}")
    if pending or (day is not None and not strong_no and not became):
        return GPReply("pending", date=day, rule="not_yet",
                       evidence=pending or (day.isoformat() if day else ""))
    if became:
        return GPReply("became_mt", rule="became_word", evidence=became)
    if not_mt:
        return GPReply("not_mt", rule="not_mt_word", evidence=not_mt)
    return _unclear("no_answer")


def _any(norm: str) -> GPReply:
    accept = first_match(norm, G.ACCEPT_STRONG)
    became = first_match(norm, G.BECAME_STRONG)
    decline = first_match(norm, G.DECLINE_STRONG)
    if (accept is not None) + (became is not None) + (decline is not None) != 1:
        return _unclear("no_explicit_statement")
    blockers = G.PENDING if became else G.ACCEPT_BLOCKERS
    if has(norm, blockers) or (accept and has(norm, G.DECLINE)) or _blocked(norm, norm):
        return _unclear("conditional")
    if accept:
        return GPReply("accept", rule="explicit_accept", evidence=accept)
    if became:
        return GPReply("became_mt", rule="explicit_became", evidence=became)
    return GPReply("decline", rule="explicit_decline", evidence=decline or "")


def _answer_signals(norm: str) -> bool:
    return any(has(norm, p) for p in (G.ACCEPT, G.DECLINE, G.BECAME, G.NOT_MT))


def _decide_gp(text: str, context: str, today: dt.date | None) -> GPReply:
    norm = normalize(text)
    if not norm.strip():
        return _unclear("empty")
    commands, missing = _commands(norm)
    if commands or missing:
        if len(commands) != 1 or missing or _answer_signals(norm):
            return _unclear("command_unclear")
        intent, number = commands[0]
        return GPReply(intent, number=number, rule="command", evidence=intent)
    flat = norm.replace("\n", " ")
    if context == "proposal":
        return _proposal(flat, text)
    if context == "followup":
        return _followup(flat, text, today)
    return _any(flat)


def classify_gp_reply(text: str, *, context: GPContext = "any",
                      today: dt.date | None = None) -> GPReply:
    """Classify a GP's reply (whole body accepted).

    ``context`` is the question the reply answers: ``"proposal"`` (OUI/NON to a
    proposed patient -> accept/decline, with the stated ``reason`` of a decline),
    ``"followup"`` ("êtes-vous devenu son MT ?" -> became_mt/not_mt/pending; the
    ``date`` of a pending answer is read relative to ``today``, the day of the
    answer) or ``"any"`` (only commands and explicit statements). Commands
    PAUSE, REPRISE, CAPACITE n, DEMANDE n are read in every context; a command
    mixed with an answer or another command is ``unclear``. Never raises.
    """
    try:
        return _decide_gp(new_text(text), context, today)
    except Exception:  # pragma: no cover - defensive: must never raise
        return _unclear("error")
