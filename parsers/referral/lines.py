"""What one line of a referral form says: the (key, raw value) pairs written on it.

A line is read as ``Label : value`` (also ``=``, ``—``, `` - ``, ``->``, ``.....``,
``?``, tab or columns of spaces), possibly with several labels
(``Nom : DURAND  Prénom : Marie``), as a checklist (``[x] ALD  [ ] CSS``), as a
label followed by its value without separator (``Né le 12/03/1948``) or as a
label alone whose value is on the next lines. A line without any label may still
say something (:func:`unlabelled_entries`). Boundaries of forwarded or quoted
mails (``-------- Message transféré --------``, ``De : …``, ``… a écrit :``) are
recognised here too: they are never form lines.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re

from parsers.referral.booleans import MARK, MARK_RE, strict_bool
from parsers.referral.labels import (
    is_header_label,
    lookup_boolean_prefix,
    lookup_label,
    normalise,
)
from parsers.referral.types import BOOLEAN_KEYS, FieldProblem
from parsers.referral.values import parse_field

Entry = tuple[str, str]
"""One (key, raw value) pair; the key is canonical, compound (:mod:`~parsers.referral.labels`)
or one of the pseudo-keys below for what an unlabelled line says."""

TOWN_KEY = "+town_line"  # "16000 Angoulême" alone on a line
NAME_KEY = "+name_line"  # "Mme DURAND Marie" alone on a line
CONSENT_KEY = "+prose_consent"  # "elle est d'accord pour être inscrite"

_NO_INLINE_SPLIT = frozenset({"motif", "ancien_medecin", "aidant", "referent_nom", "referent_structure"})
_PREFIX_KEYS = BOOLEAN_KEYS | {
    "date_naissance", "telephone", "email", "code_postal", "ins", "sexe", "referent_telephone"
}
_SHORT_NAME_KEYS = frozenset({"nom", "prenom", "nom_usage", "commune"})
# Labels that, without a separator, begin a value instead ("Résidence Les Alizés").
_NOT_PREFIXES = frozenset({"residence", "domicile", "lieu de residence"})
_SHORT_NAME = re.compile(r"^[^\W\d_][^\d:;,!?()]{0,40}$")
_MAX_LINE = 5_000  # longer lines are not form lines
_MAX_INLINE = 40  # colons looked at for a second label on one line
_ANY_DATE = dt.date(2000, 1, 1)

# ---------------------------------------------------------------- boundaries of quoted mails

_FORWARD = re.compile(
    r"^[\s\-_=*<>]*(?:message transf[ée]r[ée]|forwarded message|original message|"
    r"message d'origine|message original|mail original|begin forwarded message|d[ée]but du message "
    r"(?:r[ée]exp[ée]di[ée]|transf[ée]r[ée])|courriel (?:transf[ée]r[ée]|d'origine)|"
    r"transf[ée]r[ée] par\b|forwarded by\b)",
    re.IGNORECASE,
)
_REPLY_INTRO = re.compile(r"(?:a [ée]crit|wrote|schrieb)\s*:\s*$", re.IGNORECASE)
_HEADER = re.compile(r"^\**\s*([^\W\d_][\w' .-]{0,24}?)\s*\**\s*:")
_RULE = re.compile(r"^\s*[-_=*~]{5,}\s*$")


def is_header_line(line: str) -> bool:
    """``De : …``, ``Objet : …``, ``Sent: …``: a line of a forwarded mail's header."""
    if ":" not in line:  # the header pattern needs a colon: spare the match
        return False
    header = _HEADER.match(line.strip())
    return bool(header and is_header_label(header[1]))


def is_boundary(line: str) -> bool:
    """A forwarded/quoted mail starts here (marker, "a écrit :", header line, rule)."""
    return bool(_FORWARD.match(line) or _RULE.match(line) or (
        ":" in line and _REPLY_INTRO.search(line))) or is_header_line(line)


# ---------------------------------------------------------------- one line

_BULLET = re.compile(r"^\s*(?:[-*•·▪►▸◆♦➢➤→§]|\d{1,2}[.)])\s+")
CHECK_TOKEN = re.compile(rf"{MARK}|(?<!\S)[xX](?!\S)")
# Each separator with the characters it needs: a line without any of them is not searched.
_SEPARATORS = tuple((re.compile(pattern), needed) for pattern, needed in (
    (r"\s*[:：]\s*", ":："), (r"\s*(?:[-–—]+>|=>|→)\s*", ">→"), (r"\s*=\s*", "="),
    (r"\s+[-–—]{1,2}\s+|\s*[–—]\s*", "-–—"), (r"\s*(?:\.{3,}|…+)\s*", ".…"), (r"\s*\?\s*", "?"),
))
_INLINE_COLON = re.compile(r"\s*[:：=]\s*")
_WORD = re.compile(r"\S+")
_LABEL_LEAD = re.compile(r"(?:[,;|/\t]| {2})\s*$")
_CELLS = re.compile(r"\t| {2,}")
_UNKNOWN_LABEL = re.compile(r"^[^\W\d_][^:=\d]{0,38}?\s*[:=](?:\s|$)")


def _checklist(body: str) -> list[Entry] | None:
    """``[x] ALD  [ ] CSS`` / ``☒ ALD ☐ CSS`` / ``ALD [x]  CSS [ ]`` / ``X ALD`` → (key, mark) pairs."""
    marks = list(CHECK_TOKEN.finditer(body))
    if not marks:
        return None
    if marks[-1].end() == len(body.rstrip()) and marks[0].start() > 0:
        starts = [0] + [m.end() for m in marks[:-1]]
        pieces = [(m[0], body[start:m.start()]) for m, start in zip(marks, starts, strict=True)]
    else:  # marks before their items, maybe after a heading ("Critères : ☒ ALD ☐ CSS")
        ends = [m.start() for m in marks[1:]] + [len(body)]
        pieces = [(m[0], body[m.end():end]) for m, end in zip(marks, ends, strict=True)]
    pairs: list[Entry] = []
    for mark, item in pieces:
        item = item.strip(" \t:-|;,/")
        key = lookup_label(item)
        if key not in BOOLEAN_KEYS:
            key = lookup_boolean_prefix(item)
        if key:
            pairs.append((key, mark))
    return pairs or None


def explicit_split(body: str) -> tuple[str, str] | None:
    """``Label : value`` (also ``=``, ``—``, `` - ``, ``->``, ``.....``, ``?``) with a known label."""
    for separator, needed in _SEPARATORS:
        if not any(map(body.__contains__, needed)):
            continue
        match = separator.search(body)
        if match and 0 < match.start() <= 80:
            label = body[:match.start()]
            key = lookup_label(label)
            if key and not MARK_RE.search(label) and not is_header_label(label):
                return key, body[match.end():]
    return None


def _next_inline_label(value: str) -> tuple[int, str, int] | None:
    """Where another ``Label :`` starts inside ``value``: (start, key, value start)."""
    if ":" not in value and "=" not in value and "：" not in value:
        return None
    for colon in itertools.islice(_INLINE_COLON.finditer(value), _MAX_INLINE):
        before = value[:colon.start()]
        tail = max(0, len(before) - 120)  # a label is a few words: look at the end only
        words = list(_WORD.finditer(before[tail:]))
        for size in range(min(6, len(words)), 0, -1):
            start = tail + words[-size].start()
            label = before[start:]
            key = lookup_label(label)
            if key is None or start == 0 or is_header_label(label):
                continue
            lead = before[:start]
            if label[0].isupper() or _LABEL_LEAD.search(lead):
                return start, key, colon.end()
    return None


def _inline_fields(key: str, value: str) -> list[Entry]:
    """Split ``Nom : DURAND  Prénom : Marie`` into its fields (never inside free text)."""
    out: list[Entry] = []
    while key not in _NO_INLINE_SPLIT:
        cut = _next_inline_label(value)
        if cut is None:
            break
        start, next_key, value_start = cut
        out.append((key, value[:start].rstrip(" ,;|/-–—\t")))
        key, value = next_key, value[value_start:]
    out.append((key, value))
    return out


def _cell_pairs(cells: list[str]) -> list[Entry] | None:
    """``Nom<TAB>DURAND<TAB>Prénom<TAB>Marie`` (or columns of spaces) → pairs."""
    cells = [c.strip() for c in cells if c.strip()]
    pairs: list[Entry] = []
    index = 0
    while index < len(cells):
        key = lookup_label(cells[index].rstrip(" :="))
        if key is None or is_header_label(cells[index]) or MARK_RE.search(cells[index]):
            index += 1
            continue
        following = cells[index + 1] if index + 1 < len(cells) else ""
        if following and lookup_label(following.rstrip(" :=")) is None:
            pairs.append((key, following))
            index += 2
        else:
            pairs.append((key, ""))
            index += 1
    return pairs or None


def _prefix_field(body: str) -> list[Entry] | None:
    """``Né le 12/03/1948``, ``Tél 06…``, ``CP 16000``, ``Nom Dupuis``: label then value, no separator.

    Names and towns only on a short line starting with a capital ("Nom Dupuis");
    other values only when they read as valid for the label.
    """
    words = body.split()
    for size in range(min(5, len(words) - 1), 0, -1):
        if normalise(" ".join(words[:size])) in _NOT_PREFIXES:
            continue
        key = lookup_label(" ".join(words[:size]), loose=False)
        if key in _SHORT_NAME_KEYS and body[0].isupper() and 1 <= len(words) - size <= 3 and (
                _SHORT_NAME.match(" ".join(words[size:]))):
            return [(key, " ".join(words[size:]))]
        if key not in _PREFIX_KEYS:
            continue
        entries = _inline_fields(key, " ".join(words[size:]))
        value = entries[0][1]
        if key in BOOLEAN_KEYS:
            if strict_bool(value) is not None:
                return entries
            continue
        result = parse_field(key, value, today=_ANY_DATE)
        if result is not None and not (isinstance(result, FieldProblem) and result.code == "invalid"):
            return entries
    return None


# Labels alone on their line that may be written in lower case ("nom de naissance", "tel
# portable"): short values follow them, never free text that a lone word could end.
_LOWER_CASE_ALONE = frozenset({
    "nom", "nom_usage", "prenom", "date_naissance", "telephone", "email", "adresse", "code_postal",
    "commune", "sexe", "ins",
})


def _label_alone(body: str) -> str | None:
    """A line holding only a label ("Nom", "Motif :", "nom de naissance"): its key."""
    label = body.rstrip(" :=-–—…*_>→")
    if not label or label.endswith(".") or len(label) > 60:
        return None
    separated = body.rstrip(" *_").endswith((":", "=", "=>", "->", "→"))
    key = lookup_label(label, loose=separated)
    if key and (separated or label.lstrip("*_ ")[:1].isupper()
                or key in _LOWER_CASE_ALONE):
        return key
    return None


_CACHED_LINE = 400  # longer lines are parsed each time (the cache stays small)


def parse_line(line: str) -> tuple[Entry, ...] | None:
    """The (key, raw value) pairs written on one line, or ``None`` when it has no known label.

    Cached: a line is looked at when preparing, finding signatures, reading and as a
    neighbour."""
    return _parse_cached(line) if len(line) <= _CACHED_LINE else _parse(line)


def _parse(line: str) -> tuple[Entry, ...] | None:
    pairs = _line_fields(line) if len(line) <= _MAX_LINE else None
    return tuple(pairs) if pairs else None


_parse_cached = functools.lru_cache(maxsize=32768)(_parse)


def _line_fields(line: str) -> list[Entry] | None:
    body = _BULLET.sub("", line, count=1).strip()
    if not body or is_header_line(body):
        return None
    if CHECK_TOKEN.match(body):
        pairs = _checklist(body)
        if pairs:
            return pairs
    split = explicit_split(body)
    if split:
        return _inline_fields(*split)
    pairs = _checklist(body)
    if pairs:
        return pairs
    cells = _CELLS.split(body)
    if len(cells) >= 2:
        pairs = _cell_pairs(cells)
        if pairs:
            return pairs
    key = _label_alone(body)  # "Nom de naissance" is a label, not "Nom" + "de naissance"
    if key:
        return [(key, "")]
    if _UNKNOWN_LABEL.match(body):  # "Tél. portable de la fille : 07…": someone else's field
        return None
    return _prefix_field(body)


def is_structural(line: str) -> bool:
    """True when a line cannot continue a free-text value (it is a label of some kind)."""
    body = _BULLET.sub("", line, count=1).strip()
    return parse_line(line) is not None or bool(_UNKNOWN_LABEL.match(body) and len(
        body.split(":")[0].split()) <= 5) or is_boundary(line)


# ---------------------------------------------------------------- a line without label

_TOWN_LINE_RE = re.compile(r"^\s*(?:\d{5}|\d{2} \d{3})\s+[^\W\d_][^\d:]{1,40}$")
_NAME_LINE_RE = re.compile(
    r"^\s*(?:Mme|Madame|Mlle|Mademoiselle|M\.|Mr|Monsieur)\s+(?:[A-ZÀ-Ý][\w'-]*\s*){2,4}$"
)
_PROSE_CONSENT_RE = re.compile(
    r"\b(?:est|sont|etait|a ete)\s+(?:bien\s+)?(?:informee?s?\s+(?:et\s+)?)?"
    r"(?:d accord|consentante?s?)\b|\ba donne son (?:accord|consentement)\b"
    r"|\bavec (?:son|leur) (?:accord|consentement)\b"
    r"|\bavec l (?:accord|consentement) (?:du|de la|de l) (?:patient|patiente|interesse|personne)"
    r"|\baccepte (?:d etre|que (?:nous|vous)) (?:inscrit|recontact|l inscri|la recontact|le recontact)"
)
_NEGATION = re.compile(r"\b(?:pas|ne|n|refus\w*|non|sans|jamais|plus|si)\b")


def unlabelled_entries(line: str) -> list[Entry]:
    """What a line without any label still says: a bare "16000 Angoulême" or
    "Mme DURAND Marie", or the patient's agreement in a sentence ("elle est
    d'accord pour être inscrite"). Used only where the form itself says nothing."""
    if _TOWN_LINE_RE.match(line):
        return [(TOWN_KEY, line)]
    if _NAME_LINE_RE.match(line):
        return [(NAME_KEY, line)]
    folded = normalise(line)
    consent = _PROSE_CONSENT_RE.search(folded)
    if consent and not _NEGATION.search(folded[max(0, consent.start() - 30):consent.end()]):
        return [(CONSENT_KEY, "oui")]
    return []

