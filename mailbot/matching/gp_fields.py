"""Reading a GP's data as people type it: command-line options or a CSV row.

:func:`read_gp` returns the clean values, or the list of French problems
(one per wrong field) — never raises on user input. The keys are those of
``mailbot gps add`` options; CSV headers may be these keys or their French
labels (``Prénom``, ``Adresse MSSanté``, ``Codes postaux``…).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mailbot.matching.criteria import AGE_BANDS
from mailbot.outbound.routing import is_mssante
from parsers.referral.labels import normalise
from parsers.referral.types import FieldProblem
from parsers.referral.values import parse_email, parse_phone, strict_bool
from store.gps import Area, is_valid_rpps

MAX_CAPACITY = 100
MAX_OPEN = 20

# key → (column of store.models_matching.GP, French label)
FIELDS: dict[str, tuple[str | None, str]] = {
    "rpps": (None, "RPPS"),
    "nom": ("nom", "Nom"),
    "prenom": ("prenom", "Prénom"),
    "email": ("email", "Adresse MSSanté"),
    "cabinet": ("cabinet", "Cabinet"),
    "adresse": ("adresse", "Adresse du cabinet"),
    "telephone": ("telephone", "Téléphone du cabinet"),
    "codes_postaux": (None, "Codes postaux"),
    "communes": (None, "Communes"),
    "accepte": ("accepting", "Accepte de nouveaux patients"),
    "capacite": ("capacity_per_month", "Capacité par mois"),
    "max_propositions": ("max_open_proposals", "Propositions en cours au plus"),
    "ages": ("age_bands", "Âges acceptés"),
    "ald": ("accepts_ald", "ALD"),
    "complexe": ("accepts_complex", "Situations complexes"),
    "visites": ("home_visits", "Visites à domicile"),
}

# Other ways of writing a CSV header (folded by parsers.referral.labels.normalise).
HEADER_ALIASES: dict[str, str] = {
    "n rpps": "rpps", "numero rpps": "rpps", "prenom": "prenom", "mail": "email",
    "e mail": "email", "courriel": "email", "mssante": "email", "messagerie": "email",
    "adresse mssante": "email", "bal mssante": "email", "tel": "telephone",
    "telephone": "telephone", "telephone du cabinet": "telephone", "cp": "codes_postaux",
    "code postal": "codes_postaux", "codes postaux": "codes_postaux", "secteur": "codes_postaux",
    "commune": "communes", "communes": "communes", "disponible": "accepte",
    "accepte": "accepte", "accepte de nouveaux patients": "accepte", "capacite": "capacite",
    "capacite par mois": "capacite", "capacite mensuelle": "capacite",
    "patients par mois": "capacite", "max propositions": "max_propositions",
    "propositions en cours au plus": "max_propositions", "ages": "ages",
    "ages acceptes": "ages", "tranches d age": "ages", "ald": "ald", "complexe": "complexe",
    "situations complexes": "complexe", "situation complexe": "complexe",
    "visites": "visites", "visites a domicile": "visites", "vad": "visites",
    "adresse du cabinet": "adresse", "adresse cabinet": "adresse", "cabinet": "cabinet",
    "nom du cabinet": "cabinet",
}

_AGE_ALIASES: dict[str, list[str]] = {
    "tous": list(AGE_BANDS), "tout age": list(AGE_BANDS), "tous ages": list(AGE_BANDS),
    "enfants": ["0-5", "6-17"], "enfant": ["0-5", "6-17"], "moins de 6 ans": ["0-5"],
    "adultes": ["18-69"], "adulte": ["18-69"], "plus de 70 ans": ["70+"],
    "personnes agees": ["70+"], "seniors": ["70+"],
}


def header_key(header: str) -> str | None:
    """The field key a CSV header stands for, or ``None``."""
    folded = normalise(header)
    if folded.replace(" ", "_") in FIELDS:
        return folded.replace(" ", "_")
    return HEADER_ALIASES.get(folded)


@dataclass
class GPValues:
    """Clean values read from one GP's data."""

    rpps: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # GP columns → values
    areas: list[Area] | None = None


def _problem(problems: list[str], key: str, message: str) -> None:
    problems.append(f"{FIELDS[key][1]} : {message}")


def _bool(raw: str, key: str, problems: list[str]) -> bool | None:
    value = strict_bool(raw)
    if value is None:
        _problem(problems, key, f"« {raw} » n'est ni oui ni non")
    return value


def _int(raw: str, key: str, low: int, high: int, problems: list[str]) -> int | None:
    text = raw.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        _problem(problems, key, f"« {raw} » : un nombre entier de {low} à {high}")
        return None
    return int(text)


def _ages(raw: str, problems: list[str]) -> list[str] | None:
    bands: list[str] = []
    for part in re.split(r"[,;/]|\bet\b", raw):
        text = part.strip().replace(" ", "").replace("ans", "")
        if not text:
            continue
        if text in AGE_BANDS:
            bands.append(text)
        elif normalise(part) in _AGE_ALIASES:
            bands.extend(_AGE_ALIASES[normalise(part)])
        else:
            _problem(problems, "ages", f"« {part.strip()} » : des tranches parmi "
                     f"{', '.join(AGE_BANDS)}, ou « tous », « enfants », « adultes »")
            return None
    unique = sorted(set(bands), key=list(AGE_BANDS).index)
    return [] if set(unique) == set(AGE_BANDS) else unique


def _areas(codes: str, communes: str, problems: list[str]) -> list[Area] | None:
    areas: list[Area] = []
    ok = True
    for code in re.split(r"[\s,;]+", codes.strip()):
        if not code:
            continue
        if re.fullmatch(r"\d{5}", code):
            areas.append((code, None))
        else:
            _problem(problems, "codes_postaux", f"« {code} » : un code postal à 5 chiffres")
            ok = False
    for item in re.split(r"[;\n]|,(?=\s*\d{5})", communes.strip()):
        text = " ".join(item.split())
        if not text:
            continue
        match = re.fullmatch(r"(\d{5})\s+(\S.*)", text)
        if match:
            areas.append((match[1], match[2]))
        else:
            _problem(problems, "communes",
                     f"« {text} » : le code postal puis la commune, ex. « 16290 Hiersac »")
            ok = False
    return areas if ok else None


def _text(raw: str) -> str | None:
    return " ".join(raw.split()) or None


def read_gp(raw: Mapping[str, str | None], *, creating: bool) -> GPValues | list[str]:
    """Clean values from raw strings keyed like :data:`FIELDS` (``None``: not given).

    ``creating`` requires RPPS, name, MSSanté address and at least one area.
    """
    given = {k: v for k, v in raw.items() if v is not None and k in FIELDS}
    problems: list[str] = []
    out = GPValues()
    rpps = re.sub(r"\s", "", given.get("rpps") or "")
    if rpps or creating:
        if not is_valid_rpps(rpps):
            _problem(problems, "rpps", f"« {given.get('rpps') or ''} » : 11 chiffres dont la clé "
                     "de contrôle (vérifiez le numéro sur la carte CPS)")
        out.rpps = rpps
    for key in ("nom", "prenom", "cabinet", "adresse"):
        if key in given:
            out.values[FIELDS[key][0] or key] = _text(given[key] or "")
    if creating and not out.values.get("nom"):
        _problem(problems, "nom", "obligatoire")
    if "email" in given or creating:
        email = parse_email(given.get("email") or "")
        if isinstance(email, FieldProblem):
            _problem(problems, "email", f"« {given.get('email') or ''} » n'est pas une adresse valide")
        elif not is_mssante(email):
            _problem(problems, "email", f"« {email} » : une adresse MSSanté (…@….mssante.fr), "
                     "seule voie autorisée pour les données de santé")
        else:
            out.values["email"] = email.lower()
    if (given.get("telephone") or "").strip():
        phone = parse_phone(given["telephone"] or "")
        if isinstance(phone, FieldProblem):
            _problem(problems, "telephone", f"« {given['telephone']} » n'est pas un numéro valide")
        else:
            out.values["telephone"] = phone
    elif "telephone" in given:
        out.values["telephone"] = None
    for key in ("accepte", "ald", "complexe", "visites"):
        if key in given and (given[key] or "").strip():
            value = _bool(given[key] or "", key, problems)
            if value is not None:
                out.values[FIELDS[key][0] or key] = value
    if (given.get("capacite") or "").strip():
        number = _int(given["capacite"] or "", "capacite", 0, MAX_CAPACITY, problems)
        if number is not None:
            out.values["capacity_per_month"] = number
    if (given.get("max_propositions") or "").strip():
        number = _int(given["max_propositions"] or "", "max_propositions", 1, MAX_OPEN, problems)
        if number is not None:
            out.values["max_open_proposals"] = number
    if "ages" in given:
        bands = _ages(given["ages"] or "", problems)
        if bands is not None:
            out.values["age_bands"] = bands
    if "codes_postaux" in given or "communes" in given or creating:
        areas = _areas(given.get("codes_postaux") or "", given.get("communes") or "", problems)
        if areas is not None and not areas:
            _problem(problems, "codes_postaux", "au moins un code postal ou une commune servis")
        elif areas is not None:
            out.areas = areas
    return problems or out
