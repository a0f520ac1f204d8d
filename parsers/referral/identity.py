"""Identifiers and contact details: INS/NIR, phone numbers, e-mail addresses, sex.

Each reader returns the normalised value (NIR as 15 characters, phone in E.164,
e-mail with its domain lower-cased, sex ``"F"``/``"M"``) or a :class:`FieldProblem`.
"""

from __future__ import annotations

import re

import phonenumbers

from parsers.referral.booleans import MARK, is_checked
from parsers.referral.labels import normalise
from parsers.referral.problems import problem, quote
from parsers.referral.types import FieldProblem

# ---------------------------------------------------------------- INS / NIR

_NIR_CHARS = re.compile(r"[^0-9AB]")
_NIR_WORDS = re.compile(r"[^\W\d_]{3,}")
_NIR_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}([0-9]{2})?")


def nir_key(first13: str) -> int:
    """The NIR control key: 97 − (number mod 97), Corsica 2A/2B counted as 19/18."""
    number = int(first13[:5] + first13[5:7].replace("2A", "19").replace("2B", "18") + first13[7:])
    return 97 - number % 97


def parse_nir(raw: str, key: str = "ins") -> str | FieldProblem:
    """Read an INS/NIR: 15 characters with the key; spaces, dots and dashes allowed."""
    text = _NIR_WORDS.sub(" ", raw).upper()  # words ("clé", "qualifiée") out, 2A/2B kept
    digits = _NIR_CHARS.sub("", text)
    shape = _NIR_SHAPE.fullmatch(digits)
    if not shape:
        return problem(
            key, "invalid",
            f"le numéro {quote(raw)} n'est pas un NIR : il faut les 15 chiffres, clé comprise",
        )
    if shape[1] is None:
        return problem(
            key, "invalid",
            f"le numéro {quote(raw)} n'a que 13 chiffres : merci d'indiquer les 15 chiffres, "
            "clé comprise",
        )
    if nir_key(digits[:13]) != int(digits[13:]):
        return problem(
            key, "bad_key",
            f"la clé du numéro {quote(raw)} ne correspond pas : merci de vérifier le numéro",
        )
    return digits


# ---------------------------------------------------------------- phone numbers

_OVERSEAS_REGIONS = ("RE", "GP", "MQ", "GF", "YT", "PM", "NC", "PF", "WF", "BL", "MF")
_PHONE_CANDIDATE = re.compile(
    r"(?:\+|\b00)\s*\d{2,3}\s*(?:\(0\)\s*)?\d(?:[ .\-\u00a0]?\d){7,10}"
    r"|(?<!\d)\d(?:[ .\-\u00a0]?\d){8,11}(?!\d)"
)
_NATIONAL_SHAPE = re.compile(r"[0-9](?:[ .\-\u00a0]?[0-9])*")  # ASCII digits, single separators
_NON_DIGIT = re.compile(r"[^0-9]")


def _overseas_shapes() -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """Every national number the phone library may call valid in an overseas region (the
    union of its number-type patterns for every region sharing their calling codes), and
    those calling codes. ``None`` when the library's metadata cannot be read that way."""
    try:
        codes = {phonenumbers.country_code_for_region(region) for region in _OVERSEAS_REGIONS}
        patterns: list[str] = []
        for code in sorted(codes):
            for region in phonenumbers.region_codes_for_country_code(code):
                metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
                if metadata is None:
                    return None, ()
                descs = (metadata.fixed_line, metadata.mobile, metadata.toll_free,
                         metadata.premium_rate, metadata.shared_cost, metadata.personal_number,
                         metadata.voip, metadata.pager, metadata.uan, metadata.voicemail)
                patterns += [d.national_number_pattern for d in descs
                             if d is not None and d.national_number_pattern]
        if not patterns or 0 in codes:
            return None, ()
        return re.compile("|".join(f"(?:{p})" for p in patterns)), tuple(map(str, sorted(codes)))
    except Exception:  # unexpected metadata layout: always try every region
        return None, ()


_OVERSEAS_SHAPES, _OVERSEAS_CODES = _overseas_shapes()


def _may_be_overseas(candidate: str) -> bool:
    """False only when no overseas region can read ``candidate`` (written without ``+`` or
    ``00``) as a valid number: its digits, with or without the leading national ``0``,
    fit no overseas number pattern. A cheap test that spares eleven parses."""
    if _OVERSEAS_SHAPES is None or not _NATIONAL_SHAPE.fullmatch(candidate):
        return True
    digits = _NON_DIGIT.sub("", candidate)
    if digits.startswith("00") or digits.startswith(_OVERSEAS_CODES):
        return True  # an international prefix or a calling code: let the library decide
    return bool(_OVERSEAS_SHAPES.fullmatch(digits) or (
        digits[0] == "0" and _OVERSEAS_SHAPES.fullmatch(digits[1:])))


# "06 12 34 56 78": the library reads it as +33 then the nine digits after the national 0.
_FRENCH_NATIONAL = re.compile(r"0[1-9](?:[ .\-\u00a0]?[0-9]){8}")


def _french_number(candidate: str) -> phonenumbers.PhoneNumber:
    """What the library's generic parser makes of the usual "06 12 34 56 78" shape."""
    return phonenumbers.PhoneNumber(
        country_code=33, national_number=int(_NON_DIGIT.sub("", candidate)[1:]))


def _french_shortcut_agrees() -> bool:
    """True when :func:`_french_number` gives what ``phonenumbers.parse`` gives (checked once:
    a later version of the library may read numbers differently)."""
    samples = ("06 12 34 56 78", "01.23.45.67.89", "0712345678", "09-87-65-43-21",
               "05\u00a045 00 00 00", "0800123456", "0199999999", "0262161234", "0690001122")
    try:
        return all(_french_number(s) == phonenumbers.parse(s, "FR") for s in samples)
    except Exception:
        return False


_FRENCH_SHORTCUT = _french_shortcut_agrees()


def _parse_french(candidate: str) -> phonenumbers.PhoneNumber:
    """``phonenumbers.parse(candidate, "FR")``, without the generic parser for the usual shape."""
    if _FRENCH_SHORTCUT and _FRENCH_NATIONAL.fullmatch(candidate):
        return _french_number(candidate)
    return phonenumbers.parse(candidate, "FR")


def _valid_number(candidate: str) -> phonenumbers.PhoneNumber | None:
    """The number in ``candidate``: valid in France or overseas France, else a
    well-formed 10-digit French number in a range not allocated yet (07 12…)."""
    try:
        french = _parse_french(candidate)
        if phonenumbers.is_valid_number(french):
            return french
        if not candidate.lstrip().startswith(("+", "00")) and _may_be_overseas(candidate):
            for region in _OVERSEAS_REGIONS:
                local = phonenumbers.parse(candidate, region)
                if phonenumbers.is_valid_number(local):
                    return local
    except Exception:  # NumberParseException, or a library bug
        return None
    national = str(french.national_number)
    if french.country_code == 33 and len(national) == 9 and national[0] in "123456789":
        return french
    return None


def parse_phone(raw: str, key: str = "telephone") -> str | FieldProblem:
    """Read a French (or overseas) phone number → E.164 (``+33612345678``)."""
    for candidate in _PHONE_CANDIDATE.findall(raw):
        number = _valid_number(candidate)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return problem(key, "invalid", f"le numéro {quote(raw)} n'est pas un numéro de téléphone valide")


# ---------------------------------------------------------------- e-mail

_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\],;:\"'«»]+@[^\s<>()\[\],;:\"'«»]+")


def parse_email(raw: str, key: str = "email") -> str | FieldProblem:
    """Read an e-mail address (``mailto:`` and ``<…>`` tolerated), domain lower-cased."""
    match = _EMAIL_CANDIDATE.search(raw.replace("mailto:", " "))
    if match:
        from email_validator import EmailNotValidError, validate_email  # long to import

        try:
            return validate_email(match[0].strip("."), check_deliverability=False).normalized
        except (EmailNotValidError, ValueError, UnicodeError):
            pass
    return problem(key, "invalid", f"l'adresse {quote(raw)} n'est pas une adresse e-mail valide")


# ---------------------------------------------------------------- sex

_SEXES = {
    "f": "F", "femme": "F", "feminin": "F", "fem": "F", "fille": "F", "mme": "F", "madame": "F",
    "mlle": "F", "mademoiselle": "F", "female": "F",
    "m": "M", "h": "M", "homme": "M", "masculin": "M", "masc": "M", "garcon": "M", "mr": "M",
    "monsieur": "M", "male": "M",
}
_SEX_CHOICE = re.compile(rf"(?P<mark>{MARK})\s*(?P<word>[A-Za-zéÉ]+)")


def parse_sexe(raw: str, key: str = "sexe") -> str | FieldProblem:
    """Read the sex: F, Femme, féminin, Mme → ``"F"``; M, H, Homme, masculin, M. → ``"M"``."""
    choice = [m for m in _SEX_CHOICE.finditer(raw) if is_checked(m["mark"])]
    words = normalise(choice[0]["word"] if len(choice) == 1 else raw).split()
    if words and words[0] in _SEXES:
        return _SEXES[words[0]]
    return problem(key, "invalid", f"le sexe {quote(raw)} n'est pas compris (F ou M)")
