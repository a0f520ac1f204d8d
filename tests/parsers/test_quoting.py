"""new_text: keep only what the sender wrote, in every common client shape."""

from __future__ import annotations

import random
import time

import pytest

from parsers.quoting import new_text

Q = (
    "Bonjour,\n\nÊtes-vous toujours à la recherche d'un médecin traitant ? Répondez OUI ou NON.\n\n"
    "L'équipe de coordination de la CPTS Exemple"
)
QQ = "\n".join("> " + line if line else ">" for line in Q.split("\n"))
FROM = "CPTS Exemple <liste-attente@cpts-exemple.fr>"
HEADERS_FR = (f"De : {FROM}\nEnvoyé : lundi 2 novembre 2026 09:00\nÀ : Marie Dupont\n"
              "Objet : [CPTS-R-4HX2KW9QZ3] Êtes-vous toujours à la recherche ?")
HEADERS_EN = (f"From: {FROM}\nSent: Monday, November 2, 2026 9:00 AM\nTo: Marie Dupont\n"
              "Subject: [CPTS-R-4HX2KW9QZ3] Êtes-vous toujours à la recherche ?")

SHAPES = {
    "gmail": f"ANSWER\n\nLe lun. 2 nov. 2026 à 09:00, {FROM} a écrit :\n\n{QQ}\n",
    "gmail_wrapped": f"ANSWER\n\nLe lun. 2 nov. 2026 à 09:00, CPTS Exemple <\nliste-attente@cpts-exemple.fr> a écrit :\n{QQ}",
    "gmail_wrapped_a": f"ANSWER\n\nLe lun. 2 nov. 2026 à 09:00, {FROM} a\nécrit :\n\n{QQ}\n",
    "gmail_android": f"ANSWER\n\nLe lun. 2 nov. 2026, 09:00, {FROM} a écrit :\n\n{QQ}",
    "thunderbird": f"ANSWER\n\nLe 04/11/2026 à 08:00, CPTS Exemple a écrit :\n{QQ}\n",
    "gmail_en": f"ANSWER\n\nOn Mon, Nov 2, 2026 at 9:00 AM {FROM} wrote:\n\n{QQ}",
    "iphone": f"ANSWER\n\nEnvoyé de mon iPhone\n\n> Le 2 nov. 2026 à 09:00, {FROM} a écrit :\n>\n{QQ}",
    "apple_mail": f"ANSWER\n\n> Le 2 nov. 2026 à 09:00, {FROM} a écrit :\n>\n{QQ}",
    "outlook_rule": f"ANSWER\n\n________________________________\n{HEADERS_FR}\n\n{Q}\n",
    "outlook_desktop": f"ANSWER\n\n\n{HEADERS_FR}\n\n{Q}\n",
    "outlook_bold": f"ANSWER\n\n*De :* {FROM}\n*Envoyé :* lundi 2 novembre 2026 09:00\n*À :* M\n*Objet :* X\n\n{Q}",
    "outlook_en": f"ANSWER\n\n________________________________\n{HEADERS_EN}\n\n{Q}",
    "message_origine": f"ANSWER\n\n-----Message d'origine-----\n{HEADERS_FR}\n\n{Q}",
    "original_message": f"ANSWER\n\n-----Original Message-----\n{HEADERS_EN}\n\n{Q}",
    "samsung": (f"ANSWER\n\n\nEnvoyé depuis mon smartphone Samsung Galaxy.\n\n"
                f"-------- Message d'origine --------\n{HEADERS_FR}\n\n{Q}"),
    "zimbra": f"ANSWER\n\n----- Mail original -----\nDe: {FROM}\nÀ: M\nEnvoyé: Lundi 2 Novembre 2026\nObjet: X\n\n{Q}",
    "transfere": f"ANSWER\n\n-------- Message transféré --------\nSujet : X\nDate : Y\nDe : {FROM}\n\n{Q}",
    "forwarded_en": f"ANSWER\n\n---------- Forwarded message ---------\nFrom: {FROM}\n\n{Q}",
    "underscore_only": f"ANSWER\n\n________________________________\n{Q}",
    "orange": f"ANSWER\n\n> Message du 02/11/26 09:00\n> De : {FROM}\n> Objet : X\n>\n{QQ}",
    "yahoo": f"ANSWER\n\n\n    Le lundi 2 novembre 2026 à 09:00:12 UTC+1, {FROM} a écrit :  \n \n {Q}",
    "html_flattened": f"ANSWER\n\n\nLe 02/11/2026 à 09:00, CPTS Exemple a écrit :\n\n{Q}\n",
    "outlook_android": (f"ANSWER\n\nEnvoyé de Outlook pour Android<https://aka.ms/AAb9ysg>\n"
                        f"________________________________\n{HEADERS_EN}\n\n{Q}"),
    "outlook_ios": f"ANSWER\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n______________\n{HEADERS_FR}\n\n{Q}",
    "crlf": f"ANSWER\r\n\r\nLe 04/11/2026 à 08:00, CPTS Exemple a écrit :\r\n{QQ}".replace("\n", "\r\n"),
    "bom_quote": f"ANSWER\n\n> Le 2 nov. 2026 à 09:00, {FROM} a écrit :\n> \ufeffBonjour,\n{QQ}",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_quoted_history_is_removed(shape: str) -> None:
    assert new_text(SHAPES[shape].replace("ANSWER", "Oui toujours")) == "Oui toujours"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_multi_line_answer_is_kept(shape: str) -> None:
    answer = "Bonjour,\n\nNon, je n'ai toujours pas de médecin.\nMerci"
    assert new_text(SHAPES[shape].replace("ANSWER", answer)) == answer


def test_bottom_posted_answer_is_kept() -> None:
    text = f"Le 04/11/2026 à 08:00, CPTS Exemple a écrit :\n{QQ}\n\nOui toujours\n"
    assert new_text(text) == "Oui toujours"


def test_inline_answer_between_quoted_lines() -> None:
    text = ("Le 04/11/2026 à 08:00, CPTS Exemple a écrit :\n> Bonjour,\n> Êtes-vous toujours "
            "à la recherche ? Répondez OUI ou NON.\nOui\n> L'équipe de coordination\n")
    assert new_text(text) == "Oui"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oui\n-- \nPatrick Mallet\n06 22 33 44 55", "Oui"),
        ("Oui\n--\nPatrick", "Oui"),
        ("Oui\n\nEnvoyé de mon iPhone", "Oui"),
        ("Oui\n\nEnvoyé de mon iPad", "Oui"),
        ("Oui\nEnvoyé depuis mon iPhone", "Oui"),
        ("Oui\nEnvoyé depuis mon smartphone Android", "Oui"),
        ("Oui\nEnvoyé depuis mon appareil Galaxy", "Oui"),
        ("Oui\nEnvoyé de Outlook pour Android", "Oui"),
        ("Oui\nGet Outlook for iOS", "Oui"),
        ("Oui\nSent from my iPhone", "Oui"),
        ("Oui toujours\n\nCordialement,\nNathalie Girard\n06 11 22 33 44", "Oui toujours"),
        ("Oui toujours\nBien cordialement\nN. Girard", "Oui toujours"),
        ("Bonjour\nOui toujours\nBien à vous\nCatherine", "Bonjour\nOui toujours"),
        ("Non merci\nCordialement, Marie Dupont", "Non merci"),
        ("Oui je la prends.\n\nDr Bernard", "Oui je la prends."),
        ("Oui je la prends.\nDr S. Vidal\nMédecin généraliste\n05 45 00 00 00", "Oui je la prends."),
        ("Non.\nDocteur Paul Lemaire", "Non."),
        ("OUI\n\nCe message et ses pièces jointes sont confidentiels et destinés exclusivement "
         "à leurs destinataires. Si vous avez reçu ce message par erreur, détruisez-le.", "OUI"),
        ("OUI\nCe courriel est confidentiel.", "OUI"),
        ("OUI\n\nPensez à l'environnement avant d'imprimer ce message.", "OUI"),
    ],
)
def test_signatures_and_disclaimers_are_removed(text: str, expected: str) -> None:
    assert new_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Dr Bernard",  # a name line alone is not cut to nothing
        "Le docteur m'a écrit le 3 mars qu'il ne me prendrait pas.",
        "Le Dr Martin est devenu mon médecin traitant.",
        "Oui. De : moi, à : vous, je cherche toujours.",
        "Non c'est bon j'ai trouvé, le 12/10 le Dr Roux a accepté",
    ],
)
def test_ordinary_sentences_are_kept(text: str) -> None:
    assert new_text(text) == text


def test_example_03_gp_accepts() -> None:
    body = (
        "Oui je la prends, qu'elle appelle le secrétariat lundi.\n\nDr Bernard\n\n"
        "Le 04/11/2026 à 08:00, CPTS Exemple a écrit :\n"
        "> Une patiente de 78 ans, Angoulême, ALD, attend depuis 45 jours.\n"
        "> Répondez OUI pour accepter ou NON pour décliner.\n"
    )
    assert new_text(body) == "Oui je la prends, qu'elle appelle le secrétariat lundi."


def test_only_quote_gives_empty_text() -> None:
    assert new_text(f"Le 04/11/2026 à 08:00, CPTS Exemple a écrit :\n{QQ}\n") == ""
    assert new_text("") == ""
    assert new_text("\n\n  \n") == ""


def test_blank_lines_are_tidied() -> None:
    assert new_text("\n\nBonjour,\n\n\n\nOui\n\n\n") == "Bonjour,\n\nOui"


def _garbage(rng: random.Random) -> str:
    alphabet = "abcdeéè ÀÉ>-_:\n\r\t\x00\ufeff\u200b'’?!<>@0123456789écrit De Envoyé Le a"
    pieces = [rng.choice(alphabet) for _ in range(rng.randint(0, 400))]
    if rng.random() < 0.5:
        pieces.insert(rng.randint(0, len(pieces)), rng.choice(list(SHAPES.values())))
    return "".join(pieces)


def test_never_raises_and_never_grows() -> None:
    rng = random.Random(20261104)
    for _ in range(500):
        text = _garbage(rng)
        out = new_text(text)
        assert isinstance(out, str)
        assert len(out) <= len(text)
    for odd in (None, b"Oui", 42, ["Oui"], object()):
        assert new_text(odd) == ""  # type: ignore[arg-type]


def test_large_input_is_fast() -> None:
    huge = ("Le 02/11/2026 à 09:00 " * 20000) + "\n" + ("> " * 50000) + "\n" + "oui " * 50000
    start = time.perf_counter()
    out = new_text(huge)
    assert len(out) <= len(huge)
    assert time.perf_counter() - start < 5
