"""Understanding replies from patients and GPs (pure, never raises).

* :func:`classify_patient_reply` reads a patient's answer to "Êtes-vous toujours
  à la recherche d'un médecin traitant ? Répondez OUI ou NON." and returns
  ``yes`` (still looking), ``no`` (found one / no longer looking) or
  ``unclear`` (a coordinator decides).
* :func:`classify_gp_reply` reads a GP's answer to a proposal or a "devenu
  MT ?" follow-up, and the mail commands PAUSE, REPRISE, CAPACITE n, DEMANDE n.

Precision before recall: a wrong automatic "no" costs a patient her place on
the list, so anything contradictory, hedged or unexpected is ``unclear``.
Both functions accept a whole reply body and call :func:`parsers.quoting.new_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from parsers import gp_reply_rules as G
from parsers import patient_reply_rules as P
from parsers.quoting import new_text
from parsers.reply_text import NUMBER_WORDS, has, normalize, tokens

__all__ = ["GPContext", "GPIntent", "GPReply", "PatientReply", "classify_gp_reply",
           "classify_patient_reply"]

PatientAnswer = Literal["yes", "no", "unclear"]
GPIntent = Literal[
    "accept", "decline", "became_mt", "not_mt", "pause", "resume", "capacity", "request", "unclear"
]
GPContext = Literal["proposal", "followup", "any"]


@dataclass(frozen=True)
class PatientReply:
    """A patient's answer: ``yes`` = still looking, ``no`` = no longer looking.

    ``doctor_name`` ("Dr Martin") is set only for ``no`` when the patient names
    the doctor found; ``reason`` is a short machine-readable code.
    """

    answer: PatientAnswer
    doctor_name: str | None
    reason: str


@dataclass(frozen=True)
class GPReply:
    """A GP's answer or command; ``reason`` for declines, ``number`` for CAPACITE/DEMANDE."""

    intent: GPIntent
    reason: str | None = None
    number: int | None = None


# ---------------------------------------------------------------- patients

_DOCTOR_NAME = re.compile(
    r"\b(?:[Dd][Rr]\.?|[Dd]octeur|DOCTEUR)\s+"
    r"((?:[A-ZÀ-Ý]\.\s*)?[A-ZÀ-Ý][\w'’\-]+(?:[ \t]+[A-ZÀ-Ý][\w'’\-]+){0,2})"
)
_FORMER_BEFORE = re.compile(
    r"(?:ancien|ex|d[ée]part du|avant|rempla\w+|pr[ée]c[ée]dent)\W+(?:\w+\W+){0,2}$", re.I
)
_FORMER_AFTER = re.compile(
    r"^\W*(?:qui\s+)?(?:est\s+parti|a\s+pris\s+sa\s+retraite|est\s+(?:à|a|en)\s+la\s+retraite|"
    r"est\s+d[ée]c[ée]d[ée]|a\s+ferm[ée]|[ée]tait|ne\s+(?:peut|veut|prend))",
    re.I,
)


def _doctor_name(text: str) -> str | None:
    """The doctor named in ``text`` ("Dr Martin"), skipping a former doctor."""
    for m in _DOCTOR_NAME.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()]
        after = text[m.end() : m.end() + 40]
        if _FORMER_BEFORE.search(before) or _FORMER_AFTER.search(after):
            continue
        return "Dr " + m.group(1).strip()
    return None


def _unknown_words(norm: str) -> list[str]:
    return [w for w in tokens(norm) if w not in P.BENIGN_WORDS and not w.isdigit()]


def _decide_patient(text: str) -> PatientReply:
    norm = normalize(text).replace("\n", " ")
    if not norm.strip():
        return PatientReply("unclear", None, "empty" if not text.strip() else "no_answer")
    for reason, patterns in P.ESCALATIONS:
        if has(norm, patterns):
            return PatientReply("unclear", None, reason)

    still = has(norm, P.STILL_LOOKING)
    found = has(norm, P.FOUND)
    weak = has(norm, P.WEAK_FOUND)
    yes_word = has(norm, P.YES_WORDS)
    no_word = " non " in norm

    if still and (found or weak):
        return PatientReply("unclear", None, "contradictory")
    if still:
        if " oui " in norm:
            return PatientReply("yes", None, "explicit_oui")
        if no_word:
            return PatientReply("yes", None, "negated_still_no_doctor")
        return PatientReply("yes", None, "still_no_doctor")
    if has(norm, P.REMOVAL) and not found:
        return PatientReply("unclear", None, "removal_request")
    if found:
        if yes_word:
            return PatientReply("unclear", None, "contradictory")
        if has(norm, P.NO_QUALIFIERS):
            return PatientReply("unclear", None, "qualified_found")
        return PatientReply("no", _doctor_name(text), "found_doctor")
    if yes_word and (no_word or weak):
        return PatientReply("unclear", None, "contradictory")
    if yes_word:
        if has(norm, P.ACKNOWLEDGEMENT):
            return PatientReply("unclear", None, "acknowledgement")
        return PatientReply("yes", None, "explicit_oui")
    if no_word:
        if has(norm, P.AMBIGUOUS_NON):
            return PatientReply("unclear", None, "ambiguous_non")
        if has(norm, P.NO_QUALIFIERS):
            return PatientReply("unclear", None, "qualified_non")
        if weak or len(_unknown_words(norm)) <= 1:
            return PatientReply("no", _doctor_name(text) if weak else None, "explicit_non")
        return PatientReply("unclear", None, "non_with_unrecognised_text")
    if weak:
        return PatientReply("unclear", None, "weak_no_only")
    if "?" in norm:
        return PatientReply("unclear", None, "question")
    return PatientReply("unclear", None, "no_answer")


def classify_patient_reply(text: str) -> PatientReply:
    """Classify a patient's reply (whole body accepted) to the monthly recontact.

    ``yes``: still looking for a médecin traitant (including "Non, je n'ai
    toujours pas de médecin"); ``no``: found one / no longer needs one;
    ``unclear``: anything else — stop requests, moves, deaths, hedges,
    contradictions, questions. Never raises.
    """
    try:
        return _decide_patient(new_text(text))
    except Exception:  # pragma: no cover - defensive: must never raise
        return PatientReply("unclear", None, "error")


# ---------------------------------------------------------------- GPs


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


def _proposal(norm: str, text: str) -> GPReply:
    accept = has(norm, G.ACCEPT)
    decline = has(norm, G.DECLINE) or (not accept and has(norm, G.DECLINE_WEAK))
    if accept and decline:
        return GPReply("unclear")
    if accept:
        return GPReply("unclear") if has(norm, G.ACCEPT_BLOCKERS) else GPReply("accept")
    if decline:
        if has(norm, G.DECLINE_BLOCKERS):
            return GPReply("unclear")
        return GPReply("decline", reason=_decline_reason(text))
    return GPReply("unclear")


def _followup(norm: str) -> GPReply:
    became = has(norm, G.BECAME)
    not_mt = has(norm, G.NOT_MT)
    if became == not_mt or has(norm, G.FOLLOWUP_BLOCKERS):
        return GPReply("unclear")
    return GPReply("became_mt" if became else "not_mt")


def _any(norm: str) -> GPReply:
    accept = has(norm, G.ACCEPT_STRONG)
    became = has(norm, G.BECAME_STRONG)
    decline = has(norm, G.DECLINE_STRONG)
    if accept + became + decline != 1:
        return GPReply("unclear")
    blockers = G.FOLLOWUP_BLOCKERS if became else G.ACCEPT_BLOCKERS
    if has(norm, blockers) or (accept and has(norm, G.DECLINE)):
        return GPReply("unclear")
    return GPReply("accept" if accept else "became_mt" if became else "decline")


def _answer_signals(norm: str) -> bool:
    return any(has(norm, p) for p in (G.ACCEPT, G.DECLINE, G.BECAME, G.NOT_MT))


def _decide_gp(text: str, context: str) -> GPReply:
    norm = normalize(text)
    if not norm.strip():
        return GPReply("unclear")
    commands, missing = _commands(norm)
    if commands or missing:
        if len(commands) != 1 or missing or _answer_signals(norm):
            return GPReply("unclear")
        intent, number = commands[0]
        return GPReply(intent, number=number)
    flat = norm.replace("\n", " ")
    if context == "proposal":
        return _proposal(flat, text)
    if context == "followup":
        return _followup(flat)
    return _any(flat)


def classify_gp_reply(text: str, *, context: GPContext = "any") -> GPReply:
    """Classify a GP's reply (whole body accepted).

    ``context`` is the question the reply answers: ``"proposal"`` (OUI/NON to a
    proposed patient -> accept/decline, with the stated ``reason`` of a decline),
    ``"followup"`` ("êtes-vous devenu son MT ?" -> became_mt/not_mt) or ``"any"``
    (only commands and explicit statements). Commands PAUSE, REPRISE,
    CAPACITE n, DEMANDE n are read in every context; a command mixed with an
    answer or another command is ``unclear``. Never raises.
    """
    try:
        return _decide_gp(new_text(text), context)
    except Exception:  # pragma: no cover - defensive: must never raise
        return GPReply("unclear")
