"""The day a reply names (pending follow-ups) and the rule/evidence every reply result carries."""

from __future__ import annotations

import datetime as dt

import pytest

from parsers.replies import classify_gp_reply, classify_patient_reply
from parsers.reply_dates import named_day
from parsers.reply_text import normalize

TODAY = dt.date(2026, 12, 3)  # a Thursday


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("reporté au 12 janvier", dt.date(2027, 1, 12)),
        ("rdv le 15 décembre", dt.date(2026, 12, 15)),
        ("RDV prévu le 8/01", dt.date(2027, 1, 8)),
        ("rdv le 05/01/2027", dt.date(2027, 1, 5)),
        ("elle vient le 1er février", dt.date(2027, 2, 1)),
        ("rdv demain", dt.date(2026, 12, 4)),
        ("je la vois lundi", dt.date(2026, 12, 7)),
        ("annulé le 1/12, reporté au 14/12", dt.date(2026, 12, 14)),
        ("vue le 18/11", None),            # in the past: no next appointment
        ("rdv la semaine prochaine", None),
        ("le 31/02", None),                # no such day
        ("", None),
    ],
)
def test_named_day(text: str, day: dt.date | None) -> None:
    assert named_day(normalize(text), text, TODAY) == day


def test_pending_followup_carries_the_day_and_its_evidence() -> None:
    reply = classify_gp_reply("Pas encore vu, RDV le 10 décembre à 14h30.", context="followup",
                              today=TODAY)
    assert (reply.intent, reply.date) == ("pending", dt.date(2026, 12, 10))
    assert reply.rule == "not_yet" and reply.evidence == "pas encore"


@pytest.mark.parametrize(
    ("text", "context", "rule", "evidence"),
    [
        ("Je crois que oui, il faudrait que je regarde", "followup", "hedged", "je crois"),
        ("Oui mais pas avant janvier", "proposal", "conditional_accept", "mais"),
        ("Vous savez combien de patients j'ai déjà ???", "proposal", "question_or_emotion", "?"),
        ("Oui je la prends", "proposal", "accept_word", "oui"),
        ("Non, elle ne s'est jamais présentée", "followup", "not_mt_word", "non"),
    ],
)
def test_gp_rule_and_evidence(text: str, context: str, rule: str, evidence: str) -> None:
    reply = classify_gp_reply(text, context=context, today=TODAY)  # type: ignore[arg-type]
    assert (reply.rule, reply.evidence) == (rule, evidence)


@pytest.mark.parametrize(
    ("text", "answer", "reason"),
    [
        ("Ne m'écrivez plus", "stop", "stop_request"),
        ("Pourquoi vous me demandez ça tous les mois ??? C'est toujours la même réponse !!!",
         "unclear", "emotion"),
        ("Oui j'ai trouvé\n\nKevin", "unclear", "contradictory"),
        ("oui toujours", "yes", "explicit_oui"),
    ],
)
def test_patient_rule_and_evidence(text: str, answer: str, reason: str) -> None:
    reply = classify_patient_reply(text)
    assert (reply.answer, reply.reason) == (answer, reason)
    assert reply.evidence


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("non hélas", "unclear"), ("non trouvé", "unclear"), ("non rien", "unclear"),
        ("non :(", "unclear"), ("Non\nRIEN", "unclear"), ("non merci Gérard", "no"),
        ("Non\n\nJeanne Fabre", "no"), ("toujours le même problème", "unclear"),
    ],
)
def test_a_non_is_decided_only_with_politeness_or_a_signature(text: str, answer: str) -> None:
    assert classify_patient_reply(text).answer == answer


@pytest.mark.parametrize(
    ("text", "context", "intent"),
    [
        ("ok merci", "proposal", "unclear"), ("ok noté", "proposal", "unclear"),
        ("OK pour moi, merci de lui transmettre le numéro du cabinet.", "proposal", "accept"),
        ("Non, sauf si c'est urgent", "proposal", "unclear"),
        ("Non pas d'accord", "proposal", "decline"), ("Je vais la prendre", "proposal", "accept"),
        ("il a pris rdv pour janvier", "followup", "pending"),
        ("Non, elle n'a pas pris rendez-vous", "followup", "not_mt"),
        ("Il est venu, on a fait la déclaration", "followup", "became_mt"),
        ("Pas de déclaration pour l'instant", "followup", "pending"),
    ],
)
def test_gp_everyday_phrasings(text: str, context: str, intent: str) -> None:
    assert classify_gp_reply(text, context=context, today=TODAY).intent == intent  # type: ignore[arg-type]
