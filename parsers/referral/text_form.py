"""Read a referral form written as text in a mail body (spec/referral-form.md).

The text goes through three steps:

1. :func:`parsers.referral.segments.prepare_lines` — quote marks removed;
   signatures, confidentiality notices and forwarded-mail headers blanked.
2. :func:`_read` — each line read as ``Label : value``
   (:func:`parsers.referral.lines.parse_line`: ``=``, ``—``, tab, several labels
   on one line, checklists ``[x] ALD  [ ] CSS``…), label and value on consecutive
   lines, header/data table rows and yes/no grids, multi-line free text collected.
   The lines of a caregiver's, referrer's or former GP's section are theirs
   (:func:`parsers.referral.sections.route_sections`).
3. :func:`parsers.referral.assemble.assemble` — every value read
   (:mod:`parsers.referral.values`), repeats merged, compound labels split,
   missing and invalid fields reported.
"""

from __future__ import annotations

import datetime as dt

from parsers.quoting import new_text
from parsers.referral.assemble import assemble
from parsers.referral.labels import (
    CONTACT,
    CP_COMMUNE,
    IGNORED,
    NOM_PRENOM,
    PRENOM_NOM,
    lookup_label,
    normalise,
)
from parsers.referral.lines import (
    CHECK_TOKEN,
    TOWN_KEY,
    Entry,
    explicit_split,
    is_structural,
    parse_line,
    unlabelled_entries,
)
from parsers.referral.sections import BREAK, route_sections
from parsers.referral.segments import prepare_lines
from parsers.referral.types import BOOLEAN_KEYS, NotAForm, ReferralForm

_IDENTITY_KEYS = frozenset({"nom", "prenom", "date_naissance", "ins", "telephone"})
_TEXT_KEYS = frozenset({"motif", "ancien_medecin", "aidant", "adresse"})
_PERSON_TEXT_KEYS = frozenset({"aidant", "ancien_medecin"})  # someone else's contact lines may follow
_CONTACT_KEYS = frozenset({"telephone", "email"})
_COMPOUND_SEEN = {
    NOM_PRENOM: ("nom", "prenom"), PRENOM_NOM: ("nom", "prenom"),
    CP_COMMUNE: ("code_postal", "commune"), CONTACT: ("telephone",),
}

Lines = list[str | None]


# ---------------------------------------------------------------- tables

def _column_table(lines: Lines, index: int) -> tuple[list[Entry], int] | None:
    """A header row of labels and the data row under it, both tab-separated."""
    line = lines[index] or ""
    if "\t" not in line or CHECK_TOKEN.search(line):
        return None
    headers = line.split("\t")
    keys = [lookup_label(h.rstrip(" :")) if h.strip() else None for h in headers]
    known = sum(k is not None for k in keys)
    if known < 2 or known * 2 <= sum(bool(h.strip()) for h in headers):
        return None
    below = index + 1
    while below < len(lines) and lines[below] == "" and below - index <= 2:
        below += 1
    data = lines[below] if below < len(lines) else None
    if not data or "\t" not in data or _column_table(lines, below) or explicit_split(data):
        return None
    cells = data.split("\t")
    entries = [(k, cells[n]) for n, k in enumerate(keys) if k and n < len(cells)]
    return entries, below + 1


def _yes_no_grid(lines: Lines, index: int) -> tuple[list[Entry], int] | None:
    """A table with "Oui" / "Non" columns: ``Critère<TAB>Oui<TAB>Non`` then ``ALD<TAB>X``."""
    line = lines[index] or ""
    if "\t" not in line:  # one cell cannot be both the "Oui" and the "Non" column
        return None
    headers = [normalise(cell) for cell in line.split("\t")]
    if "oui" not in headers or "non" not in headers:
        return None
    yes, no = headers.index("oui"), headers.index("non")
    entries: list[Entry] = []
    below = index + 1
    while below < len(lines) and "\t" in (lines[below] or ""):
        cells = (lines[below] or "").split("\t") + [""] * len(headers)
        key = lookup_label(cells[0].strip(" :"))
        if key not in BOOLEAN_KEYS:
            break
        if bool(cells[yes].strip()) != bool(cells[no].strip()):
            entries.append((key, "oui" if cells[yes].strip() else "non"))
        below += 1
    return (entries, below) if entries else None


# ---------------------------------------------------------------- values on several lines

def _address_end(line: str) -> bool:
    """A sentence ("Le patient est d'accord.") cannot continue an address."""
    words = line.split()
    return (len(words) >= 3 and line.rstrip().endswith((".", "!"))) or any(
        key != TOWN_KEY for key, _ in unlabelled_entries(line))


def _collect(lines: Lines, index: int, first: str, key: str = "") -> tuple[str, int]:
    """A free-text value and its continuation lines, until a blank or a label line.

    An address goes on after one blank line with its "16000 Angoulême" line (cells of
    a pasted table are often separated by blank lines)."""
    parts = [first]
    while index < len(lines):
        line = lines[index]
        if key == "adresse" and line == "" and index + 1 < len(lines):
            after = lines[index + 1]
            if after and unlabelled_entries(after)[:1] == [(TOWN_KEY, after)] and not is_structural(after):
                parts.append(after.strip())
                index += 2
            break
        if not line or not line.strip() or is_structural(line) or (key == "adresse" and _address_end(line)):
            break
        parts.append(line.strip())
        index += 1
    return "\n".join(parts), index


def _value_below(lines: Lines, index: int, key: str) -> tuple[str, int]:
    """The value written under a label alone on its line (blank lines skipped)."""
    below = index
    while below < len(lines) and lines[below] == "" and below - index < 3:
        below += 1
    line = lines[below] if below < len(lines) else None
    if not line or not line.strip() or is_structural(line):
        return "", index
    if key in _TEXT_KEYS:
        return _collect(lines, below + 1, line.strip(), key)
    return line.strip(), below + 1


def _read(lines: Lines) -> list[Entry]:
    """Every (key, raw value) found in the prepared lines, in order."""
    entries: list[Entry] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line or not line.strip():
            if entries and entries[-1][0] != BREAK:
                entries.append((BREAK, ""))
            continue
        if "\t" in line:  # tables are tab-separated
            table = _yes_no_grid(lines, index - 1) or _column_table(lines, index - 1)
            if table:
                entries += table[0]
                index = table[1]
                continue
        pairs = parse_line(line)
        if not pairs:
            entries += unlabelled_entries(line)
            continue
        *first, (key, value) = pairs
        entries += first
        if not value.strip(" \t*_>→") and key != IGNORED:  # "*Nom :*": Outlook's bold, no value
            value, index = _value_below(lines, index, key)
        elif key in _TEXT_KEYS:
            value, index = _collect(lines, index, value, key)
        if key in _PERSON_TEXT_KEYS and value.strip():
            value, index = _person_contact(lines, index, value)
        entries.append((key, value))
    return entries


def _person_contact(lines: Lines, index: int, value: str) -> tuple[str, int]:
    """``Aidant : sa fille Nadia`` then ``Tél : 06…`` on the next line: the caregiver's phone."""
    while index < len(lines) and lines[index]:
        pairs = parse_line(lines[index] or "")
        if not pairs or any(key not in _CONTACT_KEYS for key, _ in pairs):
            break
        value = f"{value}\n{(lines[index] or '').strip()}"
        index += 1
    return value, index


def _seen(entries: list[Entry]) -> frozenset[str]:
    """Every canonical key for which a label was found (compound labels count for their parts)."""
    keys: set[str] = set()
    for key, _ in entries:
        keys.update(_COMPOUND_SEEN.get(key, () if key.startswith("+") else (key,)))
    return frozenset(keys)


# ---------------------------------------------------------------- public

def parse_text_form(text: str, *, today: dt.date, partial: bool = False) -> ReferralForm | NotAForm:
    """Read the referral form written in ``text`` (a mail body).

    Returns a :class:`ReferralForm` (valid values in ``fields``, missing and
    invalid ones in ``problems``) or :class:`NotAForm` when fewer than two
    identity labels (nom, prénom, date de naissance, INS, téléphone) are found.
    With ``partial`` — a referrer answering our "incomplete" acknowledgement with
    only the missing lines — only the reply's new text is read (quoted history
    and signature removed by :func:`parsers.quoting.new_text`), missing fields
    are not reported and one known label is enough. Never raises.
    """
    text = text if isinstance(text, str) else ""
    entries = route_sections(_read(prepare_lines(new_text(text) if partial else text)))
    seen = _seen(entries)
    if partial and not seen:
        return NotAForm(reason="aucune rubrique de la fiche de saisine reconnue")
    if not partial and len(seen & _IDENTITY_KEYS) < 2:
        return NotAForm(
            reason="moins de deux rubriques d'identité reconnues (nom, prénom, date de naissance, "
            "INS, téléphone)"
        )
    fields, problems = assemble(entries, today=today, partial=partial)
    return ReferralForm(fields=fields, problems=problems, seen=seen)
