"""Values read into fields (step 3 of :mod:`parsers.referral.text_form`).

Every (key, raw value) entry is read (:func:`parsers.referral.values.parse_field`):
a key given two different values is a conflict, not the first value
(:mod:`parsers.referral.conflicts`), free text accumulates, compound labels
("Nom prénom", "CP ville", "Coordonnées") are split, values deduced from another
field (the town of an address line…) are used only when the key itself says
nothing, and missing or invalid fields are reported.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable

from parsers.referral.conflicts import (
    CONFLICT_KEYS,
    MAX_REPEATS,
    conflict_problem,
    different_roles,
    repeated_problem,
    same_value,
)
from parsers.referral.labels import CONTACT, CP_COMMUNE, NOM_PRENOM, PRENOM_NOM
from parsers.referral.lines import CONSENT_KEY, NAME_KEY, TOWN_KEY
from parsers.referral.required import missing_problems
from parsers.referral.types import CANONICAL_KEYS, FieldProblem, FieldValue
from parsers.referral.values import CIVILITY, parse_field, split_cp_commune, split_full_name

_JOINED = {"motif": "\n", "aidant": "\n", "ancien_medecin": "\n", "referent_structure": ", "}
_CONTACT_PARTS = re.compile(r"[,;/|]|\s-\s|\s+ou\s+|\s+et\s+")
_TWO_DIGITS = re.compile(r"\d{2}")
_ORDER = {key: n for n, key in enumerate(CANONICAL_KEYS)}
# The field a compound or deduced entry is counted for when it is repeated.
_REPEAT_KEY = {NOM_PRENOM: "nom", PRENOM_NOM: "nom", CP_COMMUNE: "code_postal", CONTACT: "telephone",
               TOWN_KEY: "commune", NAME_KEY: "nom", CONSENT_KEY: "consentement"}


class _Fields:
    """Values read so far: one valid value per key (a different one is a conflict), free
    text accumulates."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.values: dict[str, FieldValue] = {}
        self.problems: dict[str, FieldProblem] = {}
        self.hints: list[tuple[str, str, bool, str]] = []
        self.raws: dict[str, list[str]] = {}  # a conflicting key: its different values as written
        self.first_raw: dict[str, str] = {}

    def known(self, key: str) -> bool:
        """True when the key has a value or a problem."""
        return key in self.values or key in self.problems

    def put(self, key: str, raw: str, *, strict: bool = False) -> None:
        """Read ``raw`` for canonical ``key``; with ``strict`` an unreadable value is dropped."""
        if key == "adresse":
            raw = ", ".join(part.strip(" ,") for part in raw.splitlines() if part.strip(" ,"))
        result = parse_field(key, raw, today=self.today)
        if result is None or (strict and isinstance(result, FieldProblem)):
            return
        if isinstance(result, FieldProblem):
            if key not in self.values:
                self.problems.setdefault(key, result)
            return
        self.problems.pop(key, None)
        if key in _JOINED and key in self.values:
            if str(result) not in str(self.values[key]):
                self.values[key] = f"{self.values[key]}{_JOINED[key]}{result}"
        elif key not in self.values:
            self.values[key] = result
            self.first_raw[key] = raw
        elif key in CONFLICT_KEYS and not same_value(self.values[key], result) and not (
                different_roles(key, self.values[key], result)):
            raws = self.raws.setdefault(key, [self.first_raw[key]])
            if len(raws) <= 3 and not any(self._says(key, r, result) for r in raws):
                raws.append(raw)

    def _says(self, key: str, raw: str, value: FieldValue) -> bool:
        """True when ``raw`` reads as ``value`` for ``key``."""
        read = parse_field(key, raw, today=self.today)
        return read is not None and not isinstance(read, FieldProblem) and same_value(read, value)

    def hint(self, key: str, raw: str, *, strict: bool = True, source: str = "") -> None:
        """A value deduced from another field, used only if the key itself says nothing."""
        if raw.strip():
            self.hints.append((key, raw, strict, source))

    def apply_hints(self) -> None:
        """Use the deduced values for the keys still unknown (not those of a conflicting field)."""
        for key, raw, strict, source in self.hints:
            if not self.known(key) and source not in self.raws:
                self.put(key, raw, strict=strict)

    def settle(self, counts: Counter[str]) -> None:
        """Fields given several different values, or written too many times, are left empty
        with a problem that says so."""
        for key, count in counts.items():
            key = _REPEAT_KEY.get(key, key)
            if count > MAX_REPEATS and key in CANONICAL_KEYS:
                self.values.pop(key, None)
                self.problems[key] = repeated_problem(key, count)
        for key, raws in self.raws.items():
            if len(raws) > 1 and key not in self.problems:
                self.values.pop(key, None)
                self.problems[key] = conflict_problem(key, raws)


def _read_entry(fields: _Fields, key: str, raw: str) -> None:
    """Route one (key, raw value) pair, splitting the compound labels."""
    raw = raw.replace("**", "").strip(" \t*_")
    if key in (NOM_PRENOM, PRENOM_NOM):
        nom, prenom, sexe, rest = split_full_name(raw, prenom_first=key == PRENOM_NOM)
        for part_key, value in (("nom", nom), ("prenom", prenom), ("sexe", sexe)):
            fields.hint(part_key, value, strict=part_key == "sexe")
        fields.hint("date_naissance", rest)
    elif key in (CP_COMMUNE, "code_postal", "commune"):
        postal, town = split_cp_commune(raw)
        if key == "commune" and postal:
            fields.put("commune", town)
            fields.hint("code_postal", postal, strict=False)
        elif key == "commune" or (key == CP_COMMUNE and not postal):
            fields.put("commune", raw)
        else:
            fields.put("code_postal", postal or raw)
            fields.hint("commune", town, strict=key == "code_postal")
    elif key == TOWN_KEY:
        postal, town = split_cp_commune(raw)
        fields.hint("code_postal", postal)
        fields.hint("commune", town)
    elif key == NAME_KEY:
        nom, prenom, sexe, _ = split_full_name(raw)
        for part_key, value in (("nom", nom), ("prenom", prenom), ("sexe", sexe)):
            fields.hint(part_key, value if prenom else "")
    elif key == CONSENT_KEY:
        fields.hint("consentement", raw)
    elif key == CONTACT:
        for part in _CONTACT_PARTS.split(raw):
            if "@" in part or _TWO_DIGITS.search(part):
                fields.hint("email" if "@" in part else "telephone", part, strict=False)
    elif key in ("nom", "nom_usage") and CIVILITY.match(raw):
        civility = CIVILITY.match(raw)
        fields.hint("sexe", civility[1] if civility else "")
        fields.put(key, CIVILITY.sub("", raw))
    elif key == "adresse":
        fields.put(key, raw)
        postal, town = split_cp_commune(raw.splitlines()[-1] if raw.strip() else "", anywhere=True)
        fields.hint("code_postal", postal, source=key)
        fields.hint("commune", town, source=key)
    elif not key.startswith("+"):
        fields.put(key, raw)


def assemble(entries: Iterable[tuple[str, str]], *, today: dt.date, partial: bool
             ) -> tuple[dict[str, FieldValue], tuple[FieldProblem, ...]]:
    """Read every entry's value; report what is missing (unless ``partial``) or invalid."""
    fields = _Fields(today)
    counts: Counter[str] = Counter()
    for key, raw in entries:
        counts[key] += 1
        if counts[key] <= MAX_REPEATS:  # a form pasted thousands of times is not read on
            _read_entry(fields, key, raw)
    fields.settle(counts)
    fields.apply_hints()
    values, problems = fields.values, fields.problems
    if "nom" not in values and "nom_usage" in values and "nom" not in problems:
        values["nom"] = values["nom_usage"]
    contact_known = any(fields.known(k) for k in ("telephone", "email"))
    for problem in missing_problems(values):
        if problem.code != "refused" and (partial or fields.known(problem.key) or (
                problem.key == "telephone" and contact_known)):
            continue
        problems[problem.key] = problem
    ordered = tuple(sorted(problems.values(), key=lambda p: _ORDER.get(p.key, len(_ORDER))))
    return values, ordered
