"""Reply classifiers: labelled corpora (precision before recall) and focused cases."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from parsers.replies import GPReply, PatientReply, classify_gp_reply, classify_patient_reply
from parsers.reply_metrics import corpus_metrics

DATA = Path(__file__).resolve().parents[1] / "data" / "replies"
PATIENT_CORPUS = DATA / "patient.jsonl"
GP_CORPUS = DATA / "gp.jsonl"

QUESTION = (
    "\n\nLe lun. 2 nov. 2026 à 09:00, CPTS Exemple <liste-attente@cpts-exemple.fr> a écrit :\n"
    "> Bonjour,\n> Êtes-vous toujours à la recherche d'un médecin traitant ? Répondez OUI ou NON.\n"
    "> Si vous avez trouvé un médecin traitant, répondez NON.\n"
)
PROPOSAL = (
    "\n\nLe 04/11/2026 à 08:00, CPTS Exemple a écrit :\n"
    "> Une patiente de 78 ans, Angoulême, ALD, attend depuis 45 jours.\n"
    "> Répondez OUI pour accepter ou NON pour décliner.\n"
    "> Commandes : PAUSE, REPRISE, CAPACITE n, DEMANDE n.\n"
)


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ------------------------------------------------------------------ corpora


def test_patient_corpus_shape() -> None:
    rows = _rows(PATIENT_CORPUS)
    assert len(rows) >= 200
    assert {r["expected"] for r in rows} == {"yes", "no", "stop", "unclear"}
    assert all(set(r) == {"text", "expected", "note"} for r in rows)
    assert sum(r["expected"] == "unclear" for r in rows) >= 25


def test_gp_corpus_shape() -> None:
    rows = _rows(GP_CORPUS)
    assert len(rows) >= 80
    assert {r["context"] for r in rows} == {"proposal", "followup", "any"}
    intents = {r["expected"] for r in rows}
    assert intents == {"accept", "decline", "became_mt", "not_mt", "pending", "pause", "resume",
                       "capacity", "request", "unclear"}


def test_patient_corpus_metrics() -> None:
    m = corpus_metrics(PATIENT_CORPUS)
    print(f"\npatient corpus: items={m['items']} decided_share={m['decided_share']:.3f} "
          f"decided_precision={m['decided_precision']:.3f} wrong={m['wrong']}")
    assert m["decided_precision"] >= 0.99, m["wrong"]
    assert m["decided_share"] >= 0.85, m["undecided"]


def test_gp_corpus_metrics() -> None:
    m = corpus_metrics(GP_CORPUS)
    print(f"\ngp corpus: items={m['items']} decided_share={m['decided_share']:.3f} "
          f"decided_precision={m['decided_precision']:.3f} wrong={m['wrong']}")
    assert m["decided_precision"] >= 0.99, m["wrong"]
    assert m["decided_share"] >= 0.70, m["undecided"]


def test_no_wrong_automatic_no_on_patient_corpus() -> None:
    """The costly error: a patient who still looks (or is unclear) answered "no"."""
    for row in _rows(PATIENT_CORPUS):
        if row["expected"] != "no":
            assert classify_patient_reply(str(row["text"])).answer != "no", row["note"]


# ------------------------------------------------------------------ patients


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("oui merci", "yes"),
        ("toujours oui", "yes"),
        ("OUI !!", "yes"),
        ("Ouii", "yes"),
        ("ouais", "yes"),
        ("oui toujour", "yes"),
        ("oui toujours pas de médecin", "yes"),
        ("je suis toujours sans médecin", "yes"),
        ("Non, je n'ai toujours pas de médecin", "yes"),
        ("non je nai pas trouve", "yes"),
        ("j'ai trouvé personne", "yes"),
        ("pour ma mère, oui toujours", "yes"),
        ("Non", "no"),
        ("nn", "no"),
        ("non c bon j'ai trouvé", "no"),
        ("non merci j'en ai un maintenant", "no"),
        ("je n'en ai plus besoin", "no"),
        ("J'ai trouvé un médecin traitant, merci de me retirer de la liste.", "no"),
        ("j'ai déménagé", "unclear"),
        ("ma mère est décédée", "unclear"),
        ("oui et non", "unclear"),
        ("?", "unclear"),
        ("", "unclear"),
        ("Non toujours pas", "unclear"),
        ("Oui, j'ai trouvé un médecin", "unclear"),
        ("J'ai trouvé un médecin mais il part à la retraite", "unclear"),
        ("Vous pouvez me retirer de la liste", "unclear"),
        ("c'est bon", "unclear"),
        ("quand aurai-je un médecin ?", "unclear"),
        ("Quand aurai-je un médecin ? Cela fait 10 mois que j'attends.", "yes"),
        ("Je suis en EHPAD", "unclear"),
        ("Non, mais pouvez-vous me rappeler pour en parler ?", "unclear"),
        ("Non je ne sais pas trop, mon fils vous rappellera", "unclear"),
    ],
)
def test_patient_answers(text: str, answer: str) -> None:
    assert classify_patient_reply(text + QUESTION).answer == answer
    assert classify_patient_reply(text).answer == answer


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("STOP", "stop_request"),
        ("Merci de ne plus m'écrire", "stop_request"),
        ("Désinscrivez-moi svp", "stop_request"),
        ("Oui", "explicit_oui"),
        ("Non", "explicit_non"),
        ("Non, je n'ai toujours pas de médecin", "negated_still_no_doctor"),
        ("Je suis toujours sans médecin", "still_no_doctor"),
        ("non j'ai trouvé, c'est le Dr Martin à Soyaux", "found_doctor"),
        ("oui et non", "contradictory"),
        ("j'ai déménagé", "moved"),
        ("ma mère est décédée", "deceased"),
        ("", "empty"),
    ],
)
def test_patient_reasons(text: str, reason: str) -> None:
    assert classify_patient_reply(text).reason == reason


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("non j'ai trouvé, c'est le Dr Martin à Soyaux", "Dr Martin"),
        ("Non. Le docteur Lefèvre a accepté de me prendre comme patiente.", "Dr Lefèvre"),
        ("Le Dr Nguyen à Gond-Pontouvre est devenu mon médecin traitant.", "Dr Nguyen"),
        ("Mon ancien médecin, le Dr Roux, est parti ; le Dr Faure m'a pris.", "Dr Faure"),
        ("Non, j'ai trouvé à la maison de santé.", None),
    ],
)
def test_doctor_name_when_found(text: str, name: str | None) -> None:
    reply = classify_patient_reply(text)
    assert reply.answer == "no"
    assert reply.doctor_name == name


def test_doctor_name_only_for_no() -> None:
    reply = classify_patient_reply("Toujours sans médecin depuis le départ du Dr Roux")
    assert reply == PatientReply("yes", None, "still_no_doctor")


def test_patient_reply_is_frozen() -> None:
    reply = classify_patient_reply("oui")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.answer = "no"  # type: ignore[misc]


# ------------------------------------------------------------------ GPs


def test_example_03_accepts() -> None:
    body = ("Oui je la prends, qu'elle appelle le secrétariat lundi.\n\nDr Bernard" + PROPOSAL)
    assert classify_gp_reply(body, context="proposal") == GPReply("accept")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("OUI", "accept"), ("je la prends", "accept"), ("d'accord", "accept"),
        ("ok pour moi", "accept"), ("accepté", "accept"),
        ("NON", "decline"), ("pas possible", "decline"), ("je décline", "decline"),
        ("complet", "decline"), ("Je la prends pas", "decline"),
        ("Oui mais pas avant janvier", "unclear"), ("Quel âge ?", "unclear"),
        ("oui et non", "unclear"), ("", "unclear"),
    ],
)
def test_gp_proposal(text: str, intent: str) -> None:
    assert classify_gp_reply(text + PROPOSAL, context="proposal").intent == intent


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NON, patientèle complète", "patientèle complète"),
        ("Non - trop loin de mon secteur.", "trop loin de mon secteur"),
        ("Complet", "Complet"),
        ("Non merci", None),
        ("Je décline, je pars à la retraite en juin. Désolé", "je pars à la retraite en juin"),
    ],
)
def test_gp_decline_reason(text: str, reason: str | None) -> None:
    assert classify_gp_reply(text, context="proposal") == GPReply("decline", reason=reason)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("oui", "became_mt"), ("c'est fait", "became_mt"), ("déclaration faite", "became_mt"),
        ("non", "not_mt"), ("pas encore venu", "pending"), ("il n'est jamais venu", "not_mt"),
        ("Je l'ai vu mais pas encore déclaré", "pending"), ("De quel patient ?", "unclear"),
    ],
)
def test_gp_followup(text: str, intent: str) -> None:
    assert classify_gp_reply(text, context="followup").intent == intent


@pytest.mark.parametrize("context", ["proposal", "followup", "any"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PAUSE", GPReply("pause")),
        ("REPRISE", GPReply("resume")),
        ("CAPACITE 3", GPReply("capacity", number=3)),
        ("capacité : 3", GPReply("capacity", number=3)),
        ("Capacité 0", GPReply("capacity", number=0)),
        ("CAPACITE deux", GPReply("capacity", number=2)),
        ("DEMANDE 2", GPReply("request", number=2)),
        ("CAPACITE", GPReply("unclear")),
        ("PAUSE\nCAPACITE 2", GPReply("unclear")),
        ("CAPACITE 2 ou CAPACITE 3", GPReply("unclear")),
    ],
)
def test_gp_commands_in_any_context(text: str, expected: GPReply, context: str) -> None:
    assert classify_gp_reply(text + PROPOSAL, context=context) == expected  # type: ignore[arg-type]


def test_quoted_commands_are_ignored() -> None:
    assert classify_gp_reply("Merci" + PROPOSAL, context="any").intent == "unclear"


def test_bare_answers_need_a_context() -> None:
    assert classify_gp_reply("oui").intent == "unclear"
    assert classify_gp_reply("non").intent == "unclear"


# ------------------------------------------------------------------ robustness


def test_garbage_never_raises() -> None:
    rng = random.Random(4242)
    alphabet = "ouinON ?!>-_:\n\r\t\x00\ufeff’'éèàçDrCAPACITEdemande0123456789 " + "😀"
    samples: list[object] = [None, b"oui", 3, ["oui"], object(), "\x00" * 100, "> " * 10000,
                             "oui " * 20000, "Dr " * 5000, "capacite " * 5000]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
                for _ in range(400)]
    for sample in samples:
        p = classify_patient_reply(sample)  # type: ignore[arg-type]
        assert p.answer in {"yes", "no", "stop", "unclear"}
        for context in ("proposal", "followup", "any", "bogus"):
            g = classify_gp_reply(sample, context=context)  # type: ignore[arg-type]
            assert g.intent in {"accept", "decline", "became_mt", "not_mt", "pending", "pause",
                                "resume", "capacity", "request", "unclear"}
