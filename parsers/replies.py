"""Understanding replies from patients and GPs (pure, never raises).

* :func:`classify_patient_reply` reads a patient's answer to "Êtes-vous toujours
  à la recherche d'un médecin traitant ? Répondez OUI ou NON." and returns
  ``yes`` (still looking), ``no`` (found one / no longer looking), ``stop``
  (asks not to be written to any more) or ``unclear`` (a coordinator decides).
* :func:`classify_gp_reply` (from :mod:`parsers.gp_replies`) reads a GP's answer
  to a proposal or a "devenu MT ?" follow-up, and the mail commands.

Precision before recall: a wrong automatic "no" costs a patient her place on
the list, so anything contradictory, hedged, emotional or unexpected is
``unclear``. Both functions accept a whole reply body and call
:func:`parsers.quoting.new_text`; each result names its rule and evidence.
"""

from __future__ import annotations

import re

from parsers import patient_reply_rules as P
from parsers.gp_replies import classify_gp_reply, first_match
from parsers.quoting import new_text
from parsers.reply_text import has, normalize, tokens
from parsers.reply_types import GPContext, GPIntent, GPReply, PatientAnswer, PatientReply

__all__ = ["GPContext", "GPIntent", "GPReply", "PatientAnswer", "PatientReply",
           "classify_gp_reply", "classify_patient_reply"]

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


_FOUND_WORD = re.compile(r"\btrouv")


def _unknown_words(norm: str) -> list[str]:
    return [w for w in tokens(norm) if w not in P.BENIGN_WORDS and not w.isdigit()]


_SAD = re.compile(r":-?\(|:'\(|[\U0001F622\U0001F61E\U0001F614\U0001F62D\u2639]")


# Words that may be capitalised but are never a signature: they change what "non" means.
_NOT_NAMES = frozenset(["non", "enfin", "toujours", "encore", "rien", "personne", "aucun", "aucune", "jamais", "helas", "malheureusement", "trouve", "pas", "plus", "snif", "desespere", "desesperee", "vraiment"])
_NAME = re.compile(r"\b[A-ZÀ-Ý][a-zà-ÿ'’-]+\b|\b[A-ZÀ-Ý]{2,}\b")


def _names(line: str) -> set[str]:
    return {normalize(w).strip() for w in _NAME.findall(line)} - _NOT_NAMES


def _only_politeness_or_a_name(norm: str, text: str) -> bool:
    """Nothing but politeness around the "non", and at most a signature ("Gérard", "Jeanne Fabre").

    The line of the "non" may end with one name; the lines below may hold up to
    three words, all written as names. Anything else ("non hélas", "non rien") is read by a human.
    """
    if not _unknown_words(norm):
        return True
    lines = [line for line in text.splitlines() if line.strip()]
    first, rest = lines[0], lines[1:]
    unknown_first = _unknown_words(normalize(first))
    if len(unknown_first) > 1 or not set(unknown_first) <= _names(first):
        return False
    below = [w for line in rest for w in _unknown_words(normalize(line))]
    return len(below) <= 3 and set(below) <= {n for line in rest for n in _names(line)}


def _decide_patient(text: str) -> PatientReply:
    norm = normalize(text).replace("\n", " ")
    if not norm.strip():
        return PatientReply("unclear", None, "empty" if not text.strip() else "no_answer")
    for reason, patterns in P.ESCALATIONS:
        hit = first_match(norm, patterns)
        if hit is not None:
            return PatientReply("stop" if reason == "stop_request" else "unclear", None, reason,
                                hit)

    still = first_match(norm, P.STILL_LOOKING)
    found = first_match(norm, P.FOUND)
    weak = first_match(norm, P.WEAK_FOUND)
    yes_word = first_match(norm, P.YES_WORDS)
    no_word = "non" if " non " in norm else None

    def unclear(reason: str, *hits: str | None) -> PatientReply:
        return PatientReply("unclear", None, reason, " / ".join(h for h in hits if h))

    if still and (found or weak):
        return unclear("contradictory", still, found or weak)
    if still:
        if " oui " in norm:
            return PatientReply("yes", None, "explicit_oui", f"oui / {still}")
        if no_word:
            return PatientReply("yes", None, "negated_still_no_doctor", still)
        return PatientReply("yes", None, "still_no_doctor", still)
    if has(norm, P.REMOVAL) and not found:
        return unclear("removal_request", first_match(norm, P.REMOVAL))
    if found:
        if yes_word:
            return unclear("contradictory", yes_word, found)
        qualifier = first_match(norm, P.NO_QUALIFIERS)
        if qualifier:
            return unclear("qualified_found", found, qualifier)
        return PatientReply("no", _doctor_name(text), "found_doctor", found)
    if yes_word and (no_word or weak or _FOUND_WORD.search(norm)):
        return unclear("contradictory", yes_word, no_word or weak or "trouve")
    if yes_word:
        if has(norm, P.ACKNOWLEDGEMENT):
            return unclear("acknowledgement", first_match(norm, P.ACKNOWLEDGEMENT))
        return PatientReply("yes", None, "explicit_oui", yes_word)
    if no_word:
        ambiguous = first_match(norm, P.AMBIGUOUS_NON) or first_match(norm, P.NO_QUALIFIERS)
        if ambiguous:
            return unclear("ambiguous_non", no_word, ambiguous)
        if _SAD.search(text):  # "non :(" : sadly not found, or sadly no? A human reads it.
            return unclear("ambiguous_non", no_word, "émoticône")
        if weak or _only_politeness_or_a_name(norm, text):
            return PatientReply("no", _doctor_name(text) if weak else None, "explicit_non",
                                f"non / {weak}" if weak else "non")
        return unclear("non_with_unrecognised_text", no_word)
    if weak:
        return unclear("weak_no_only", weak)
    if "?" in norm:
        return unclear("question", "?")
    return unclear("no_answer")


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
