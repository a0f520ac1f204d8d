"""The body-form reader on forms written the way partners write them (issue 12).

The corpus is ``tests/data/forms_general/{dev,heldout}/NNN-name.eml``, each with
``NNN-name.json`` as in ``tests/data/forms`` (expected ``fields``: ISO dates, JSON
booleans, E.164 phones; sorted ``problems`` keys) plus its ``kind``:

* ``label`` — labels that are not the bare canonical one ("Nom de naissance",
  "N° de téléphone portable", "Date de naissance du patient"…), alone on their
  line with the value on the next one, in any case, with or without accents and
  separators, typos, tables pasted from Word or Outlook;
* ``signature`` — a sender's signature (its own phone, address, e-mail) above,
  below or around the form, forwarded or quoted in every client's way: none of
  its details may be read as the patient's;
* ``section`` — sections with their own Nom / Prénom / Tél lines ("Personne à
  prévenir", "Professionnel orienteur", "Ancien médecin traitant"), a caregiver's
  phone under her line, and real contradictions (issue 15: a ``conflict``).

``dev`` is the part the rules were tuned on; ``heldout`` was written at the same
time and kept apart, to measure how the rules generalise. Each case fails on any
wrong field; :func:`test_accuracy_report` prints the share of right fields for
each part and kind (``pytest -s`` not needed: it writes to the terminal).

Measured (share of fields right): before the rules, dev 0.801 (labels) / 0.805
(signatures), held-out 0.800 / 0.804. After tuning on dev only, dev 1.000 / 1.000
and, at the first run of the held-out part, 0.971 / 1.000 (9 and 11 mails of 11
right): one miss was this corpus's error (06 90… is a Guadeloupe mobile, now
expected so), one a label not understood ("n° de téléphone de la maman": a parent's
phone reaches a child), then fixed, so the held-out part is no longer unseen.
A second held-out batch (L51–L60, S51–S60) was then written, after those rules and
before running them: 0.924 / 0.988 at its first run (9 and 9 mails of 10 right; a
label ending in "=>" with its value below, a signature glued on top of the form
without a blank line), both fixed since. Sections: before 0.667 (dev) / 0.657
(held-out); after tuning on dev, held-out 1.000 at its first run (4 mails).
A third held-out batch (C61–C65, S61–S63, L61–L62), first run: 8 of 10 mails right
(fields: labels 13/17, sections 40/42, signatures 23/23): an unknown label with a
separator read as a known label + value ("Tél. portable de la fille : 07…"),
"Résidence Les Alizés" read as a town, "Accord de l'intéressée"; fixed since.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from parsers.referral import ReferralForm, parse_referral_message, parse_text_form

TODAY = dt.date(2026, 11, 23)
CORPUS = Path(__file__).resolve().parents[1] / "data" / "forms_general"
PARTS = ("dev", "heldout")
CASES = [path for part in PARTS for path in sorted((CORPUS / part).glob("*.eml"))]


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}


def _errors(path: Path) -> tuple[int, list[str]]:
    """(number of fields checked, the wrong ones described) for one case.

    Every expected field counts, plus every field read that was not expected,
    plus the list of problems as one field."""
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    result = parse_referral_message(msg, today=TODAY)
    if not isinstance(result, ReferralForm):
        return len(expected["fields"]) + 1, [f"not read as a form: {result}"]
    got = _jsonable(result.fields)
    want: dict[str, Any] = expected["fields"]
    wrong = [f"{key}: expected {want.get(key)!r}, read {got.get(key)!r}"
             for key in sorted(set(want) | set(got)) if want.get(key) != got.get(key)]
    if sorted(result.problem_keys) != expected["problems"]:
        wrong.append(f"problems: expected {expected['problems']}, read {sorted(result.problem_keys)}")
    return len(set(want) | set(got)) + 1, wrong


def test_corpus_is_large_and_paired() -> None:
    kinds = Counter((path.parent.name, json.loads(path.with_suffix(".json").read_text(
        encoding="utf-8"))["kind"]) for path in CASES)
    for kind in ("label", "signature"):
        assert kinds["dev", kind] + kinds["heldout", kind] >= 30
        assert kinds["heldout", kind] >= 10


@pytest.mark.parametrize("path", CASES, ids=[f"{c.parent.name}-{c.stem}" for c in CASES])
def test_case(path: Path) -> None:
    _, wrong = _errors(path)
    assert not wrong, "\n".join(wrong)


def test_accuracy_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Print the share of right fields and of fully right mails, by part and kind."""
    fields: Counter[tuple[str, str]] = Counter()
    fields_ok: Counter[tuple[str, str]] = Counter()
    mails: Counter[tuple[str, str]] = Counter()
    mails_ok: Counter[tuple[str, str]] = Counter()
    for path in CASES:
        kind = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["kind"]
        group = (path.parent.name, kind)
        checked, wrong = _errors(path)
        fields[group] += checked
        fields_ok[group] += checked - len(wrong)
        mails[group] += 1
        mails_ok[group] += not wrong
    lines = [f"{part:8} {kind:10} fields {fields_ok[part, kind]}/{fields[part, kind]} = "
             f"{fields_ok[part, kind] / fields[part, kind]:.3f}   mails {mails_ok[part, kind]}/"
             f"{mails[part, kind]}" for part, kind in sorted(fields)]
    with capsys.disabled():
        print("\nbody-form reader, general corpus:\n" + "\n".join(lines))
    assert fields_ok == fields, "\n".join(lines)


BASE = "Nom : DURAND\nPrénom : Marie\nNé le : 12/03/1948\n"


@pytest.mark.parametrize(("text", "expected"), [
    # An establishment written as the patient's address is the address, not a signature.
    (BASE + "Adresse :\nEHPAD Bellevue\n1 rue du Parc\n16400 La Couronne\nTél : 05 45 67 12 13",
     {"adresse": "EHPAD Bellevue, 1 rue du Parc, 16400 La Couronne", "telephone": "+33545671213"}),
    (BASE + "Adresse postale\n\nEHPAD Bellevue\n16400 La Couronne\n\nTél : 06 12 34 56 78",
     {"adresse": "EHPAD Bellevue, 16400 La Couronne", "telephone": "+33612345678"}),
    # A patient's block opened by her name with a civility is hers.
    ("Mme DURAND Marie\nNé le : 12/03/1948\nTél : 06 12 34 56 78\nCP : 16000\n",
     {"telephone": "+33612345678", "code_postal": "16000"}),
    # The referrer's labelled section of the form is read as such.
    (BASE + "Tél : 06 12 34 56 78\n\nOrienté par : Julie MARTIN\nStructure : CH d'Angoulême\n"
            "Tél référent : 05 45 24 40 40",
     {"telephone": "+33612345678", "referent_nom": "Julie MARTIN",
      "referent_structure": "CH d'Angoulême", "referent_telephone": "+33545244040"}),
])
def test_what_is_not_a_signature_is_read(text: str, expected: dict[str, Any]) -> None:
    result = parse_text_form(text, today=TODAY)
    assert isinstance(result, ReferralForm), result
    assert {k: result.fields.get(k) for k in expected} == expected
