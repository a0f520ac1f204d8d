"""Reading referral forms written in mail bodies, and the corpus of real-world shapes.

The corpus is ``tests/data/forms/NNN-name.eml``, each with ``NNN-name.json``:
either ``{"not_a_form": true}`` or the expected ``fields`` (ISO dates, JSON
booleans, E.164 phones) and sorted ``problems`` keys; ``"partial": true``
reads the mail as a reply completing an earlier form.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from parsers.referral import (
    FieldProblem,
    NotAForm,
    ReferralForm,
    parse_referral_message,
    parse_text_form,
)

TODAY = dt.date(2026, 11, 23)
CORPUS = Path(__file__).resolve().parents[1] / "data" / "forms"
CASES = sorted(CORPUS.glob("*.eml"))

BASE = """Nom : DURAND
Prénom : Marie
Date de naissance : 12/03/1948
Téléphone : 06 12 34 56 78
Code postal : 16000
Commune : Angoulême
"""


def _form(text: str, *, partial: bool = False) -> ReferralForm:
    result = parse_text_form(text, today=TODAY, partial=partial)
    assert isinstance(result, ReferralForm), result
    return result


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}


# ---------------------------------------------------------------- the corpus

def test_corpus_is_large_and_paired() -> None:
    assert len(CASES) >= 60
    assert all(case.with_suffix(".json").exists() for case in CASES)


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
def test_corpus(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    for policy in (email.policy.compat32, email.policy.default):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy)
        result = parse_referral_message(msg, today=TODAY, partial=expected.get("partial", False))
        if expected.get("not_a_form"):
            assert isinstance(result, NotAForm), result
            continue
        assert isinstance(result, ReferralForm), result
        assert _jsonable(result.fields) == expected["fields"]
        assert sorted(result.problem_keys) == expected["problems"], result.problems


# ---------------------------------------------------------------- separators and layouts

@pytest.mark.parametrize("separator", [" : ", ": ", ":", " = ", " — ", " - ", "\t", " –> ", "……… "])
def test_separators(separator: str) -> None:
    text = BASE.replace(" : ", separator) + f"Consentement{separator}oui\n"
    form = _form(text)
    assert form.complete, form.problems
    assert form.fields["nom"] == "DURAND"
    assert form.fields["date_naissance"] == dt.date(1948, 3, 12)


def test_label_and_value_on_consecutive_lines() -> None:
    text = "\n\n".join(f"{label}\n{value}" for label, value in [
        ("Nom", "DURAND"), ("Prénom", "Marie"), ("Date de naissance :", "12/03/1948"),
        ("Mail", "marie@orange.fr"), ("CP", "16000"), ("Ville", "Angoulême"), ("Consentement", "Oui")])
    assert _jsonable(_form(text).fields) == {
        "nom": "DURAND", "prenom": "Marie", "date_naissance": "1948-03-12", "email": "marie@orange.fr",
        "code_postal": "16000", "commune": "Angoulême", "consentement": True}


def test_empty_label_line_does_not_swallow_the_next_label() -> None:
    form = _form(BASE + "Mail :\nConsentement : oui\n")
    assert "email" not in form.fields
    assert form.fields["consentement"] is True
    assert "email" in form.seen


@pytest.mark.parametrize("prefix", ["- ", "• ", "* ", "> ", ">> ", "1. ", "**"])
def test_bullets_quotes_and_emphasis(prefix: str) -> None:
    lines = (BASE + "Consentement : oui").splitlines()
    text = "\n".join(prefix + line.replace(" : ", "** : " if prefix == "**" else " : ") for line in lines)
    assert _form(text).complete


def test_several_labels_on_one_line() -> None:
    form = _form("Nom : DURAND   Prénom : Marie   DDN : 12/03/1948\n"
                 "Tél : 06 12 34 56 78 - Mail : marie@orange.fr\nCP : 16000, Ville : Angoulême\n"
                 "Consentement : oui")
    assert form.complete
    assert form.fields["email"] == "marie@orange.fr"


def test_labels_inside_free_text_are_not_split() -> None:
    form = _form(BASE + "Aidant : sa fille Sophie, Tél : 06 11 22 33 44\nConsentement : oui")
    assert form.fields["telephone"] == "+33612345678"
    assert form.fields["aidant"] == "sa fille Sophie, Tél : 06 11 22 33 44"


# ---------------------------------------------------------------- checklists

@pytest.mark.parametrize("line", [
    "[x] ALD   [ ] CSS   [ ] AME   [x] Mobilité réduite",
    "☒ ALD ☐ CSS ☐ AME ☒ Mobilité réduite",
    "ALD [x]  CSS [ ]  AME [ ]  Mobilité réduite [x]",
    "Critères : ☒ ALD  ☐ CSS  ☐ AME  ☒ Visites à domicile",
    "ALD : [x]\nCSS : [ ]\nAME : non\nMobilité réduite : ✓",
    "X ALD\n[ ] CSS\n[ ] AME\nX Mobilité réduite",
    "- [x] ALD\n- [ ] CSS\n- [ ] AME\n- [x] VAD",
    "ALD : oui ☒ non ☐\nCSS : oui ☐ non ☒\nAME : ☐ oui ☒ non\nMobilité réduite : Oui [X] Non [ ]",
])
def test_checklist_shapes(line: str) -> None:
    form = _form(BASE + line + "\nConsentement : oui")
    assert {k: form.fields.get(k) for k in ("ald", "css", "ame", "mobilite_reduite")} == {
        "ald": True, "css": False, "ame": False, "mobilite_reduite": True}


def test_checked_consent_sentence() -> None:
    form = _form(BASE + "☒ J'atteste que le patient a été informé et a donné son accord")
    assert form.fields["consentement"] is True


# ---------------------------------------------------------------- free text

def test_multi_line_motif_stops_at_blank_line_and_labels() -> None:
    form = _form(BASE + "Motif : médecin parti,\nsuivi diabète.\n\nJe reste disponible.\n"
                        "Ancien MT : Dr Fabre\nparti en juin\nConsentement : oui")
    assert form.fields["motif"] == "médecin parti,\nsuivi diabète."
    assert form.fields["ancien_medecin"] == "Dr Fabre\nparti en juin"


def test_motif_under_its_label() -> None:
    form = _form(BASE + "Contexte :\nvit seule\naidée par sa fille\n\nConsentement : oui")
    assert form.fields["motif"] == "vit seule\naidée par sa fille"


def test_address_on_two_lines_gives_postal_code_and_town() -> None:
    text = BASE.replace("Code postal : 16000\nCommune : Angoulême\n", "")
    form = _form(text + "Adresse : 4 rue des Lilas\n16000 Angoulême\nConsentement : oui")
    assert form.fields["adresse"] == "4 rue des Lilas, 16000 Angoulême"
    assert (form.fields["code_postal"], form.fields["commune"]) == ("16000", "Angoulême")
    assert form.complete


# ---------------------------------------------------------------- forwards, signatures, disclaimers

def test_forward_headers_are_not_fields() -> None:
    text = ("-------- Message transféré --------\nSujet : Nom du patient\nDe : Julie <j@x.fr>\n"
            "Date : 02/11/2026\nÀ : liste\nObjet : fiche\n\n" + BASE + "Consentement : oui")
    form = _form(text)
    assert form.complete
    assert form.fields["nom"] == "DURAND"


def test_signature_phone_and_address_are_not_the_patients() -> None:
    text = BASE.replace("Téléphone : 06 12 34 56 78\n", "") + (
        "Mail : marie@orange.fr\nConsentement : oui\n\nCordialement,\nJulie Martin\n"
        "Tél : 05 45 00 00 00\nAdresse : 1 place de l'Hôtel de Ville\nStructure : DAC 16\n")
    form = _form(text)
    assert "telephone" not in form.fields
    assert "adresse" not in form.fields
    assert "referent_structure" not in form.fields


@pytest.mark.parametrize("signature", ["-- \nJulie", "Bien à vous\nJulie", "Bonne journée,\nJulie",
                                       "Envoyé de mon iPhone", "Merci d'avance\nJulie", "Cdlt\nJM"])
def test_signatures(signature: str) -> None:
    text = BASE.replace("Téléphone : 06 12 34 56 78\n", "Mail : marie@orange.fr\n")
    form = _form(text + "Consentement : oui\n" + signature +
                 "\nTél : 05 45 00 00 00\nMail : julie@dac16.fr\nService : DAC 16\nCP : 16100")
    assert "telephone" not in form.fields
    assert (form.fields["email"], form.fields["code_postal"]) == ("marie@orange.fr", "16000")
    assert "referent_structure" not in form.fields


def test_form_lines_after_a_thank_you_line_are_read() -> None:
    form = _form(BASE + "Merci de votre aide.\nAncien MT : Dr Fabre\nConsentement : oui")
    assert form.fields["ancien_medecin"] == "Dr Fabre"


def test_form_below_a_signature_in_a_forward_is_read() -> None:
    text = ("Pour info.\nCordialement,\nSandrine\nTél : 05 45 98 00 00\n\n"
            "De : Dr X\nEnvoyé : lundi\nObjet : fiche\n\n" + BASE + "Consentement : oui")
    form = _form(text)
    assert form.fields["telephone"] == "+33612345678"
    assert form.complete


def test_disclaimer_is_ignored() -> None:
    text = BASE.replace("Téléphone : 06 12 34 56 78\n", "Mail : marie@orange.fr\n") + (
        "Consentement : oui\n\nCe message et toutes les pièces jointes sont confidentiels "
        "et destinés exclusivement à leurs destinataires.\nStandard : 05 45 00 00 00\nTél : 05 45 11 11 11")
    assert "telephone" not in _form(text).fields


# ---------------------------------------------------------------- required fields and problems

def test_required_fields_missing() -> None:
    form = _form("Nom : DURAND\nPrénom : Marie\n")
    assert form.problem_keys == ["date_naissance", "telephone", "code_postal", "commune", "consentement"]
    assert all(p.code == "missing" for p in form.problems)
    contact = next(p for p in form.problems if p.key == "telephone")
    assert "téléphone ou e-mail" in contact.message


def test_email_is_enough_to_reach_the_patient() -> None:
    text = BASE.replace("Téléphone : 06 12 34 56 78", "Courriel : marie@orange.fr")
    assert _form(text + "Consentement : oui").complete


def test_consent_refused_and_missing() -> None:
    refused = _form(BASE + "Consentement : non")
    assert [(p.key, p.code) for p in refused.problems] == [("consentement", "refused")]
    assert refused.fields["consentement"] is False
    missing = _form(BASE)
    assert [(p.key, p.code) for p in missing.problems] == [("consentement", "missing")]


def test_invalid_values_are_reported_with_the_value_as_written() -> None:
    form = _form(BASE.replace("12/03/1948", "31/02/1990").replace("16000", "1600")
                 + "NIR : 2 48 03 16 015 123 84\nConsentement : oui")
    problems = {p.key: p for p in form.problems}
    assert problems["date_naissance"] == FieldProblem(
        "date_naissance", "impossible", "la date « 31/02/1990 » n'existe pas", "12/03/1948")
    assert problems["code_postal"].code == "invalid"
    assert "« 1600 »" in problems["code_postal"].message
    assert problems["ins"].code == "bad_key"
    assert "date_naissance" not in form.fields


def test_a_later_valid_value_wins_over_an_invalid_one() -> None:
    form = _form(BASE.replace("Téléphone : 06 12 34 56 78", "Tél fixe : 05 45\nPortable : 06 12 34 56 78")
                 + "Consentement : oui")
    assert form.fields["telephone"] == "+33612345678"
    assert form.complete


def test_referent_phone_is_not_the_patient_phone() -> None:
    form = _form(BASE.replace("Téléphone : 06 12 34 56 78\n", "") +
                 "Tél référent : 05 45 00 00 00\nTéléphone du professionnel : 05 45 11 11 11\nConsentement : oui")
    assert form.fields["referent_telephone"] == "+33545000000"
    assert "telephone" not in form.fields
    assert form.problem_keys == ["telephone"]


def test_seen_lists_every_label_found() -> None:
    form = _form(BASE + "Mail :\nALD : peut-être pas\nConsentement : oui")
    assert {"nom", "email", "ald", "consentement"} <= form.seen


# ---------------------------------------------------------------- not a form, partial answers

@pytest.mark.parametrize("text", [
    "",
    "Oui je la prends, qu'elle appelle le secrétariat lundi.\n\nDr Bernard",
    "Bonjour,\nPouvez-vous me rappeler ?\nCordialement\nTél : 05 45 00 00 00\nNom : Julie",
    "Nom : DURAND\nVille : Angoulême\nMerci",
])
def test_not_a_form(text: str) -> None:
    result = parse_text_form(text, today=TODAY)
    assert isinstance(result, NotAForm)
    assert result.reason


def test_partial_answer_reports_only_what_it_holds() -> None:
    text = ("Date de naissance : 31/11/1948\nCode postal : 16000\n\n"
            "Le 03/11/2026 à 16:45, CPTS a écrit :\n> Nom : information manquante\n> Prénom : Marie\n")
    form = _form(text, partial=True)
    assert form.fields == {"code_postal": "16000"}
    assert form.problem_keys == ["date_naissance"]
    assert form.seen == {"date_naissance", "code_postal"}


def test_partial_answer_with_refusal() -> None:
    assert _form("Consentement : non", partial=True).problem_keys == ["consentement"]


def test_partial_answer_without_any_label_is_not_a_form() -> None:
    assert isinstance(parse_text_form("Merci, je regarde ça.", today=TODAY, partial=True), NotAForm)


# ---------------------------------------------------------------- never raises

def test_garbage_never_raises() -> None:
    rng = random.Random(1123)
    pieces = ["Nom", "Prénom", " : ", "Date de naissance", "12/03/1948", "31/02/1990", "Tél", "\t",
              "06 12 34 56 78", "[x]", "☒", "ALD", "\n", "\n\n", "Motif", "Cordialement", "De :", "> ",
              "oui", "non", "CP", "16000", "=", " — ", "X", "Consentement", "-- ", "**", "…", "@", "Patient"]
    alphabet = "".join(map(chr, range(0x20, 0x250))) + "\n\t☒☐\u00a0\u200b"
    for _ in range(150):
        soup = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 300)))
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1500)))
        for text in (soup, noise, soup + noise):
            for partial in (False, True):
                assert isinstance(parse_text_form(text, today=TODAY, partial=partial),
                                  ReferralForm | NotAForm)


def test_huge_lines_stay_fast() -> None:
    text = "Nom : DURAND " + "a : b " * 20000 + "\n" + "Motif : " + "mot " * 100000
    assert isinstance(parse_text_form(text, today=TODAY), ReferralForm | NotAForm)
