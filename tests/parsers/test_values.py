"""Value readers of the referral form: each value as partners write it."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from parsers.referral.types import FieldProblem
from parsers.referral.values import (
    nir_key,
    parse_bool,
    parse_date,
    parse_email,
    parse_field,
    parse_nir,
    parse_phone,
    parse_postal_code,
    parse_sexe,
    split_cp_commune,
    split_full_name,
    strict_bool,
)

TODAY = dt.date(2026, 11, 23)


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize(("raw", "expected"), [
    ("12/03/1948", dt.date(1948, 3, 12)),
    ("12-03-1948", dt.date(1948, 3, 12)),
    ("12.03.48", dt.date(1948, 3, 12)),
    ("1948-03-12", dt.date(1948, 3, 12)),
    ("12 mars 1948", dt.date(1948, 3, 12)),
    ("1er mars 1948", dt.date(1948, 3, 1)),
    ("12 03 1948", dt.date(1948, 3, 12)),
    ("12/3/48", dt.date(1948, 3, 12)),
    ("12 / 03 / 1948", dt.date(1948, 3, 12)),
    ("12031948", dt.date(1948, 3, 12)),
    ("3 Août 1950", dt.date(1950, 8, 3)),
    ("12 févr. 1939", dt.date(1939, 2, 12)),
    ("12 FEVRIER 1939", dt.date(1939, 2, 12)),
    ("12/03/1948 (78 ans)", dt.date(1948, 3, 12)),
    ("le 12/03/1948 à Cognac", dt.date(1948, 3, 12)),
    ("29/02/2000", dt.date(2000, 2, 29)),
    ("23/11/2026", TODAY),
])
def test_dates_written_many_ways(raw: str, expected: dt.date) -> None:
    assert parse_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("01/01/26", dt.date(2026, 1, 1)),  # already past this year
    ("24/12/26", dt.date(1926, 12, 24)),  # would be in the future
    ("12.03.48", dt.date(1948, 3, 12)),
    ("23/11/26", dt.date(2026, 11, 23)),
])
def test_two_digit_year_is_the_most_recent_past_one(raw: str, expected: dt.date) -> None:
    assert parse_date(raw, today=TODAY) == expected


@pytest.mark.parametrize(("raw", "code", "words"), [
    ("31/02/1990", "impossible", "n'existe pas"),
    ("29/02/2001", "impossible", "n'existe pas"),
    ("12/13/1948", "impossible", "n'existe pas"),
    ("12/03/2030", "impossible", "futur"),
    ("24/11/2026", "impossible", "futur"),
    ("11/11/1898", "impossible", "120 ans"),
    ("hier", "invalid", "pas lisible"),
    ("mars 1948", "invalid", "pas lisible"),
    ("", "invalid", "pas lisible"),
])
def test_bad_dates_are_problems_quoting_the_value(raw: str, code: str, words: str) -> None:
    problem = parse_date(raw, today=TODAY)
    assert isinstance(problem, FieldProblem)
    assert (problem.key, problem.code) == ("date_naissance", code)
    assert words in problem.message
    assert f"« {raw} »" in problem.message
    assert problem.example


def test_impossible_date_message_is_the_documented_one() -> None:
    assert parse_date("31/02/1990", today=TODAY) == FieldProblem(
        "date_naissance", "impossible", "la date « 31/02/1990 » n'existe pas", "12/03/1948")


def test_age_limit_is_120_years() -> None:
    assert parse_date("24/11/1905", today=TODAY) == dt.date(1905, 11, 24)  # 120 years old
    assert isinstance(parse_date("23/11/1905", today=TODAY), FieldProblem)  # 121 today


# ---------------------------------------------------------------- booleans

@pytest.mark.parametrize("raw", [
    "oui", "OUI", "Oui.", "yes", "o", "O", "x", "X", "[x]", "[X]", "(x)", "☒", "☑", "✓", "✔", "1",
    "true", "vrai", "ok", "oui, informé et d'accord", "Oui (recueilli par téléphone le 12/11)",
    "☒ oui ☐ non", "[x] oui [ ] non", "Oui ☒ Non ☐", "oui [x] non [ ]", "patient informé et d'accord",
    "accord verbal", "d'accord", "\uf0fe",
])
def test_yes(raw: str) -> None:
    assert parse_bool(raw, "consentement") is True


@pytest.mark.parametrize("raw", [
    "non", "NON", "no", "n", "N", "[ ]", "( )", "☐", "□", "0", "false", "faux", "refus", "Refusé",
    "pas d'accord", "☐ oui ☒ non", "oui ☐ non ☒", "Oui [ ] Non [X]", "Non, ne souhaite pas être recontacté",
    "néant",
])
def test_no(raw: str) -> None:
    assert parse_bool(raw, "consentement") is False


@pytest.mark.parametrize("raw", ["Oui / Non", "oui/non", "☒ oui ☒ non", "peut-être", "à voir avec sa fille"])
def test_unreadable_consent_is_invalid(raw: str) -> None:
    problem = parse_bool(raw, "consentement")
    assert isinstance(problem, FieldProblem)
    assert problem.code == "invalid"


def test_naming_the_condition_means_yes_for_criteria() -> None:
    assert parse_bool("diabète de type 2", "ald") is True
    assert isinstance(parse_bool("diabète de type 2", "consentement"), FieldProblem)


def test_strict_bool_only_reads_bare_answers() -> None:
    assert strict_bool("oui") is True
    assert strict_bool("[ ]") is False
    assert strict_bool("merci") is None


# ---------------------------------------------------------------- NIR / INS

def test_nir_key_follows_the_rule() -> None:
    assert nir_key("2480316015123") == 97 - 2480316015123 % 97
    assert nir_key("269052A123456") == 97 - 2690519123456 % 97
    assert nir_key("269052B123456") == 97 - 2690518123456 % 97


@pytest.mark.parametrize(("raw", "expected"), [
    ("2 48 03 16 015 123 83", "248031601512383"),
    ("248031601512383", "248031601512383"),
    ("2.48.03.16.015.123.83", "248031601512383"),
    ("2-48-03-16-015-123 clé 83", "248031601512383"),
    ("248031601512383 (INS qualifiée)", "248031601512383"),
    ("2 69 05 2A 123 456 88", "269052A12345688"),
])
def test_valid_nir(raw: str, expected: str) -> None:
    assert parse_nir(raw) == expected


def test_nir_with_a_wrong_key() -> None:
    problem = parse_nir("2 48 03 16 015 123 84")
    assert isinstance(problem, FieldProblem)
    assert (problem.key, problem.code) == ("ins", "bad_key")


def test_nir_without_its_key_asks_for_15_digits() -> None:
    problem = parse_nir("2 48 03 16 015 123")
    assert isinstance(problem, FieldProblem)
    assert problem.code == "invalid"
    assert "15 chiffres" in problem.message


@pytest.mark.parametrize("raw", ["12345", "abc", "2 48 03 16 015 123 83 99", "2A"])
def test_not_a_nir(raw: str) -> None:
    problem = parse_nir(raw)
    assert isinstance(problem, FieldProblem)
    assert problem.code == "invalid"


# ---------------------------------------------------------------- phones

@pytest.mark.parametrize(("raw", "expected"), [
    ("06 12 34 56 78", "+33612345678"),
    ("06.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("0612345678", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6 12 34 56 78", "+33612345678"),
    ("06\u00a012\u00a034\u00a056\u00a078", "+33612345678"),
    ("05 45 00 00 00", "+33545000000"),
    ("06 12 34 56 78 (fille)", "+33612345678"),
    ("05 45 81 00 12 (fixe) / 06 13 24 35 46", "+33545810012"),
    ("0692 45 67 89", "+262692456789"),
    ("+262 692 12 34 56", "+262692123456"),
    ("07 12 23 34 45", "+33712233445"),  # well-formed, range not yet allocated
])
def test_phones(raw: str, expected: str) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize("raw", ["06 12 34 56 7", "12/03/1948", "appeler la fille", "123"])
def test_bad_phones(raw: str) -> None:
    problem = parse_phone(raw)
    assert isinstance(problem, FieldProblem)
    assert (problem.key, problem.code) == ("telephone", "invalid")


def test_referent_phone_problem_names_its_key() -> None:
    problem = parse_phone("05 45", "referent_telephone")
    assert isinstance(problem, FieldProblem)
    assert problem.key == "referent_telephone"


# ---------------------------------------------------------------- e-mail, postal code, sex

@pytest.mark.parametrize(("raw", "expected"), [
    ("marie.durand@example.org", "marie.durand@example.org"),
    ("Marie.Durand@GMAIL.COM", "Marie.Durand@gmail.com"),
    ("<marie@orange.fr>", "marie@orange.fr"),
    ("mailto:marie@orange.fr", "marie@orange.fr"),
    ("marie@orange.fr (fille)", "marie@orange.fr"),
])
def test_emails(raw: str, expected: str) -> None:
    assert parse_email(raw) == expected


@pytest.mark.parametrize("raw", ["marie@orange", "marie.orange.fr", "marie@@orange.fr", "x@y"])
def test_bad_emails(raw: str) -> None:
    problem = parse_email(raw)
    assert isinstance(problem, FieldProblem)
    assert (problem.key, problem.code) == ("email", "invalid")


@pytest.mark.parametrize(("raw", "expected"), [("16000", "16000"), ("16 000", "16000"), (" 16000 ", "16000")])
def test_postal_codes(raw: str, expected: str) -> None:
    assert parse_postal_code(raw) == expected


@pytest.mark.parametrize("raw", ["1600", "160000", "16OOO", "Angoulême"])
def test_bad_postal_codes(raw: str) -> None:
    problem = parse_postal_code(raw)
    assert isinstance(problem, FieldProblem)
    assert "5 chiffres" in problem.message


@pytest.mark.parametrize(("raw", "expected"), [
    ("F", "F"), ("Femme", "F"), ("féminin", "F"), ("Mme", "F"), ("☐ M ☒ F", "F"),
    ("M", "M"), ("H", "M"), ("Homme", "M"), ("masculin", "M"), ("M.", "M"), ("Monsieur", "M"),
])
def test_sexes(raw: str, expected: str) -> None:
    assert parse_sexe(raw) == expected


def test_unknown_sex_is_invalid() -> None:
    assert isinstance(parse_sexe("Z"), FieldProblem)


# ---------------------------------------------------------------- compound values, placeholders

@pytest.mark.parametrize(("raw", "prenom_first", "expected"), [
    ("DURAND Marie", False, ("DURAND", "Marie", "", "")),
    ("Marie DURAND", False, ("DURAND", "Marie", "", "")),
    ("Mme DUPONT Jeanne", False, ("DUPONT", "Jeanne", "Mme", "")),
    ("M. Karim BENALI, né le 14/07/1962", False, ("BENALI", "Karim", "M", ", né le 14/07/1962")),
    ("Durand Marie", False, ("Durand", "Marie", "", "")),
    ("Marie Durand", True, ("Durand", "Marie", "", "")),
    ("DE LA TOUR Jean", False, ("DE LA TOUR", "Jean", "", "")),
    ("DURAND, Marie", False, ("DURAND", "Marie", "", "")),
])
def test_split_full_name(raw: str, prenom_first: bool, expected: tuple[str, str, str, str]) -> None:
    assert split_full_name(raw, prenom_first=prenom_first) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("16000 Angoulême", ("16000", "Angoulême")),
    ("16 000 ANGOULEME", ("16 000", "ANGOULEME")),
    ("Angoulême (16000)", ("16000", "Angoulême")),
    ("Angoulême 16000", ("16000", "Angoulême")),
    ("1600 Angoulême", ("1600", "Angoulême")),
    ("Angoulême", ("", "")),
])
def test_split_cp_commune(raw: str, expected: tuple[str, str]) -> None:
    assert split_cp_commune(raw) == expected


def test_postal_code_at_the_end_of_an_address() -> None:
    assert split_cp_commune("4 rue des Lilas, 16000 Angoulême", anywhere=True) == ("16000", "Angoulême")
    assert split_cp_commune("4 rue des Lilas", anywhere=True) == ("", "")


@pytest.mark.parametrize(("key", "raw"), [
    ("telephone", "pas de téléphone"), ("email", "pas de mail"), ("email", "Néant"), ("ins", "en cours"),
    ("nom_usage", "____"), ("date_naissance", "__/__/____"), ("css", "en cours de demande"),
    ("consentement", "à recueillir"), ("telephone", "…………"), ("ancien_medecin", "aucun"),
])
def test_placeholders_mean_nothing_given(key: str, raw: str) -> None:
    assert parse_field(key, raw, today=TODAY) is None


def test_text_fields_are_tidied() -> None:
    assert parse_field("nom", "  **DURAND**  ", today=TODAY) == "DURAND"
    assert parse_field("motif", "ligne un\n  ligne   deux ", today=TODAY) == "ligne un\nligne deux"


def test_value_readers_never_raise() -> None:
    rng = random.Random(7)
    alphabet = "0123456789 /.-:xX[]()☒☐oui non@+AB éè\t\n" + "".join(map(chr, range(0x20, 0x7f)))
    keys = ("date_naissance", "ins", "telephone", "email", "code_postal", "sexe", "consentement",
            "ald", "nom", "motif", "referent_telephone")
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for key in keys:
            parse_field(key, raw, today=TODAY)


def test_unreadable_optional_criterion_says_nothing() -> None:
    assert parse_field("ald", "Oui / Non", today=TODAY) is None
    assert isinstance(parse_field("consentement", "Oui / Non", today=TODAY), FieldProblem)
