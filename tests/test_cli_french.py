"""The command line speaks French: argparse's own texts, every option explained, statuses
in French words, phones and names written for a reader, mails agreeing with the patient's sex."""

from __future__ import annotations

import argparse

import pytest

from mailbot.cli import build_parser, main
from mailbot.cli.french import french_error
from mailbot.operations.history import event_text
from mailbot.operations.labels import status_from_text
from mailbot.outbound.templating import Templates
from parsers.people import person_name, phone_display
from store.models import EntryStatus

ENGLISH = ("usage:", "positional arguments", "optional arguments", "show this help",
           "error:", "unrecognized", "invalid choice", "required:")


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def test_every_option_and_argument_has_a_french_help_line() -> None:
    missing = []
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                continue
            if not action.help:
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


@pytest.mark.parametrize("argv", [["--help"], ["entries", "--help"], ["entries", "list", "--help"],
                                  ["import", "--help"], ["stats", "--help"]])
def test_help_is_in_french(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : mailbot")
    assert "affiche cette aide et quitte" in out and "options:" in out
    for word in ENGLISH:
        assert word not in out


@pytest.mark.parametrize(("argv", "french"), [
    (["entries", "list", "--bogus"], "arguments non reconnus : --bogus"),
    (["entries", "show"], "arguments obligatoires manquants : RÉF"),
    (["stats", "--format", "pdf"], "choix invalide"),
    (["entries", "list", "--limit", "beaucoup"], "valeur invalide"),
    (["entries", "list", "--status", "perdue"], "état inconnu « perdue »"),
])
def test_usage_errors_are_in_french(argv: list[str], french: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("utilisation : ") and " : erreur : " in err and french in err
    for word in ENGLISH:
        assert word not in err


def test_french_error_keeps_what_it_does_not_know() -> None:
    assert french_error("something new") == "something new"


@pytest.mark.parametrize(("text", "status"), [
    ("en attente", EntryStatus.WAITING), ("En attente", EntryStatus.WAITING),
    ("waiting", EntryStatus.WAITING), ("incomplète", EntryStatus.INCOMPLETE),
    ("Clôturée", EntryStatus.CLOSED), ("clôturées", EntryStatus.CLOSED),
    ("résolue", EntryStatus.RESOLVED), ("acceptée", EntryStatus.MATCHED), ("perdue", None),
])
def test_status_words(text: str, status: EntryStatus | None) -> None:
    assert status_from_text(text) == status


def test_names_and_phones_for_a_reader() -> None:
    assert person_name("Durand", "marie") == "DURAND Marie"
    assert person_name("DURAND", "MARIE-CLAIRE") == "DURAND Marie-Claire"
    assert person_name("dupont", "McKenzie") == "DUPONT McKenzie"
    assert phone_display("+33798765432") == "07 98 76 54 32"
    assert phone_display("+262692123456") == "+262692123456"


def test_history_in_french_words() -> None:
    created = event_text("created", {"fields": ["nom", "css"], "problems": ["date_naissance"]})
    assert created == "inscription créée (rubriques : Nom, CSS ; à compléter : Date de naissance)"
    status = event_text("status", {"from": "incomplete", "to": "closed", "reason": "deceased"})
    assert status == "incomplète → clôturée (décès)"
    for text in (created, status):
        assert "_" not in text and "=" not in text


class _Entry:
    ref = "E-7QK2M9"

    def __init__(self, sexe: str | None) -> None:
        self.sexe = sexe


@pytest.mark.parametrize(("sexe", "words"), [
    ("F", ("Patiente déjà inscrite", "Cette patiente est déjà inscrite")),
    ("M", ("Patient déjà inscrit", "Ce patient est déjà inscrit")),
    (None, ("Patient déjà inscrit", "Ce patient est déjà inscrit")),
])
def test_mails_agree_with_the_patient_s_sex(sexe: str | None, words: tuple[str, str]) -> None:
    cpts = {"name": "CPTS du Pays d'Exemple", "address": "1 place de la Mairie", "signature": ""}
    mail = Templates().render("ack_duplicate", entry=_Entry(sexe), patient="DURAND Marie",
                              changed=False, cpts=cpts)
    assert mail.subject.startswith(words[0]) and words[1] in mail.text
