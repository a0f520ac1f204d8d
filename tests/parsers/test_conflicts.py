"""A form that gives one field two different values (issue 15): a conflict, never the first value."""

from __future__ import annotations

import datetime as dt

import pytest

from parsers.referral import ReferralForm, parse_text_form

TODAY = dt.date(2026, 11, 23)
BASE = """Nom : DURAND
Prénom : Marie
Date de naissance : 12/03/1948
Téléphone : 06 12 34 56 78
Adresse : 4 rue des Lilas, 16000 Angoulême
Consentement : oui
"""


def _form(text: str) -> ReferralForm:
    result = parse_text_form(text, today=TODAY)
    assert isinstance(result, ReferralForm), result
    return result


@pytest.mark.parametrize(("extra", "key", "quoted"), [
    ("Nom de naissance : MARTIN", "nom", ("« DURAND »", "« MARTIN »")),
    ("Prénom\nMarion", "prenom", ("« Marie »", "« Marion »")),
    ("DDN : 21/03/1948", "date_naissance", ("« 12/03/1948 »", "« 21/03/1948 »")),
    ("Portable : 07 11 22 33 44", "telephone", ("« 06 12 34 56 78 »", "« 07 11 22 33 44 »")),
    ("Mail : a@b.fr\nE-mail : c@d.fr", "email", ("« a@b.fr »", "« c@d.fr »")),
    ("Adresse postale : 9 rue Haute, 16200 Jarnac", "adresse", ("« 4 rue des Lilas", "« 9 rue Haute")),
    ("Consentement : non", "consentement", ("« oui »", "« non »")),
])
def test_two_different_values_are_a_conflict_naming_both(extra: str, key: str, quoted: tuple[str, str]) -> None:
    form = _form(BASE + extra)
    [problem] = [p for p in form.problems if p.key == key]
    assert problem.code == "conflict"
    assert key not in form.fields
    assert all(q in problem.message for q in quoted), problem.message
    assert problem.message.startswith("la fiche indique deux valeurs différentes")
    assert not form.complete


def test_an_address_in_conflict_gives_no_postal_code_either() -> None:
    form = _form(BASE + "Adresse : 9 rue Haute, 16200 Jarnac")
    assert "code_postal" not in form.fields and "commune" not in form.fields


@pytest.mark.parametrize("extra", [
    "NOM : durand", "Nom de naissance : Durand", "Né le : 12.03.48", "Tél : +33 6 12 34 56 78",
    "Tél. fixe : 05 45 00 00 00", "Accord : OUI", "Code postal : 16000",
])
def test_the_same_value_again_or_a_landline_beside_a_mobile_is_no_conflict(extra: str) -> None:
    form = _form(BASE + extra)
    assert form.complete, form.problems
    assert form.fields["telephone"] == "+33612345678"


def test_three_values_are_all_named() -> None:
    form = _form(BASE + "Nom : MARTIN\nNom : PETIT\nNom : ROUX")
    [problem] = form.problems
    assert problem.message.startswith("la fiche indique 4 valeurs différentes, « DURAND », « MARTIN », "
                                      "« PETIT »…")


@pytest.mark.parametrize("lines", [
    ["Nom : DURAND"] * 10_000,
    [f"Nom : DURAND{n}" for n in range(10_000)],
    BASE.splitlines() * 2_000,
])
def test_ten_thousand_repeated_lines_are_a_malformed_form(lines: list[str]) -> None:
    form = _form(BASE + "\n".join(lines))
    problem = next(p for p in form.problems if p.key == "nom")
    assert problem.code == "repeated"
    assert "nom" not in form.fields
    assert "apparaît au moins" in problem.message and "une seule ligne par rubrique" in problem.message


def test_a_form_forwarded_three_times_is_not_repeated() -> None:
    form = _form("\n\n-----Message d'origine-----\n".join([BASE] * 3))
    assert form.complete, form.problems
