"""The shortcuts of the label reader give exactly what the long way gives."""

from __future__ import annotations

import random

from parsers.referral import label_words, labels

LABELS = ["Nom", "NOM", "Prénom", "Tél.", "N°", "patient", "Patiente", "est", "l'usager",
          "DURAND", "Hélène", "Œdipe", "12/03/1948", "06 12 34 56 78", "16000", "", "   ", "-",
          "Nom (patient)", "[Nom]", "Nom du patient", "Son code postal est", "Tél 2",
          "Date de naissance", "voici", "d'accord", "Ville / Commune", "co-référent", "x" * 90,
          "nom_usage", "Nom d'usage", "Téléphone", "télephone", "Teléphone2", "Naissance"]


def test_one_word_labels_have_the_candidates_of_the_long_way() -> None:
    rng = random.Random(4)
    words = ["".join(rng.choice("abcdeéèfghijklmnopqrstuvwxyz'-.0123456789")
                     for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    for label in LABELS + words + [w.upper() for w in words] + [f"{w} est" for w in words[:50]]:
        assert labels._candidates(label) == labels._all_candidates(label), label


def _brute_correct(word: str, vocabulary: frozenset[str]) -> str:
    if len(word) < label_words._MIN_TYPO_LENGTH or word in vocabulary or not word.isalpha():
        return word
    matches = {t for t in vocabulary if t[:1] == word[:1] and label_words._one_edit(word, t)}
    return matches.pop() if len(matches) == 1 else word


def test_typing_slips_are_corrected_as_by_trying_every_word() -> None:
    vocabulary = label_words.VOCABULARY
    rng = random.Random(5)
    slips = []
    for target in sorted(vocabulary):
        for _ in range(4):
            index = rng.randrange(len(target))
            letter = rng.choice("aeiouzrst")
            slips += [target[:index] + letter + target[index + 1:], target[:index] + target[index + 1:],
                      target[:index] + letter + target[index:], target[1:] + target[:1]]
    assert len(slips) > 1000
    for word in [*slips, "telephonne", "prenomm", "naissanse", "durand", "kxjqzbw"]:
        assert label_words.correct_word(word, vocabulary) == _brute_correct(word, vocabulary), word


def test_labels_without_a_letter_are_unknown_as_by_the_long_way() -> None:
    assert all(labels._LETTER.search(key) for key in labels._LOOKUP)
    rng = random.Random(6)
    letterless = ["".join(rng.choice("0123456789 /.-+()[]:°№²_*#") for _ in range(rng.randint(1, 20)))
                  for _ in range(3000)] + ["12/03/1948", "06 12 34 56 78", "16000", "1 / 2", "(1)"]
    for label in letterless + LABELS:
        for loose in (False, True):
            assert labels.lookup_label(label, loose=loose) == labels._lookup(label, loose=loose), label
