"""One spreadsheet row → what to register: fields, problems, status, registration date.

Cells are read with the referral form's value readers
(:func:`parsers.referral.values.parse_field`) after undoing what spreadsheets
do to values: Excel date numbers, postal codes and phone numbers that lost
their leading zero, ``TRUE``/``FALSE`` cells (:mod:`parsers.referral.cells`). Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.importer import columns as col
from mailbot.importer.answers import NAME_KEYS, read_name, read_yes_no
from mailbot.importer.communes import postal_codes
from mailbot.importer.statuses import Status, is_blank, read_status
from parsers.referral import cells
from parsers.referral.cells import excel_date as excel_date
from parsers.referral.labels import CONTACT, CP_COMMUNE, IGNORED, NOM_PRENOM, PRENOM_NOM, normalise
from parsers.referral.required import missing_problems
from parsers.referral.types import (
    BOOLEAN_KEYS,
    CANONICAL_KEYS,
    FRENCH_LABELS,
    FieldProblem,
    FieldValue,
)
from parsers.referral.values import (
    CIVILITY,
    parse_date,
    parse_email,
    parse_field,
    split_cp_commune,
    split_full_name,
)
from store.entries import identity_key
from store.models import EntryStatus

_TOTAL = re.compile(r"^(?:sous )?(?:total|totaux)\b|^(?:nombre|nb|effectif|somme)\b")


@dataclass
class RowPlan:
    """What one row will become."""

    sheet: str
    number: int
    outcome: str = "entry"                 # "entry", "rejected" or "skipped"
    why: str = ""                          # for rejected and skipped rows
    fields: dict[str, FieldValue] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)
    status: EntryStatus = EntryStatus.WAITING
    reason: str | None = None
    received_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    referrer_email: str | None = None
    notes: list[str] = field(default_factory=list)
    no_received_date: bool = False  # the registration date cell is empty (said once, summed up)
    entry_id: int | None = None   # once registered: the entry it created or was merged into
    ref: str | None = None

    def fingerprint(self) -> str:
        """The patient and registration date, hashed: the same row in another version of the file."""
        who = (self.fields.get("ins")
               or identity_key(text_of(self.fields.get("nom")), text_of(self.fields.get("prenom")),
                               day_of(self.fields.get("date_naissance")))
               or "|".join(normalise(str(self.fields.get(k, ""))) for k in ("nom", "prenom",
                                                                           "code_postal")))
        when = self.received_at.date().isoformat() if self.received_at else "?"
        return hashlib.sha256(f"{who}|{when}".encode()).hexdigest()


def text_of(value: Any) -> str | None:
    """``value`` if it is text."""
    return value if isinstance(value, str) else None


def day_of(value: Any) -> dt.date | None:
    """``value`` if it is a date."""
    return value if isinstance(value, dt.date) else None


def problem_words(problem: FieldProblem) -> str:
    """"Date de naissance (la date « 31/02/1980 » n'existe pas)": a missing field by its label,
    a wrong one with why (the message quotes the cell)."""
    label = FRENCH_LABELS.get(problem.key, problem.key)
    return label if problem.code == "missing" and problem.message == "information manquante" else (
        f"{label} ({problem.message})")


@dataclass(frozen=True)
class RowContext:
    """What reading a row needs besides its cells."""

    today: dt.date
    tz: ZoneInfo
    assume_consent: bool = False
    epoch_1904: bool = False
    statuses: Mapping[str, Status] = field(default_factory=dict)  # --status overrides
    sheet_status: Status | None = None  # said by the sheet's name ("En attente", "Attribués")
    no_x: frozenset[str] = frozenset()  # yes/no columns writing "oui" and "non": X says nothing
    territory: tuple[str, ...] = ()     # postal codes or prefixes served ([intake])


def cell_text(key: str, value: Any, ctx: RowContext) -> str:
    """A cell as the text a referrer would have typed for ``key`` (:func:`parsers.referral.cells.cell_text`)."""
    return cells.cell_text(key, value, epoch_1904=ctx.epoch_1904)


def _moment(value: Any, ctx: RowContext) -> dt.datetime | None:
    """A registration or exit date: keeps the time when the cell has one, else local midnight."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=ctx.tz).astimezone(dt.UTC) if value.tzinfo is None else value
    text = cell_text(col.RECEIVED, value, ctx)
    if not text:
        return None
    day = parse_date(text, today=ctx.today, key=col.RECEIVED)
    if isinstance(day, FieldProblem):
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=ctx.tz).astimezone(dt.UTC)


class _Collector:
    """Values of one row: the first valid value of a key wins; hints fill what is still empty."""

    def __init__(self, ctx: RowContext) -> None:
        self.ctx = ctx
        self.values: dict[str, FieldValue] = {}
        self.problems: dict[str, FieldProblem] = {}
        self.notes: list[str] = []

    def put(self, key: str, raw: str, *, hint: bool = False) -> None:
        if not raw.strip() or key in self.values or (hint and key in self.problems):
            return
        result: FieldValue | FieldProblem | None
        if key in NAME_KEYS:
            result = read_name(key, raw)
        elif key in BOOLEAN_KEYS and not hint:
            answer, why = read_yes_no(key, raw, x_means_yes=key not in self.ctx.no_x)
            if why and key == "consentement":
                result = FieldProblem(key, "invalid", why.partition(" : ")[2], "oui")
            elif why:
                self.notes.append(why + " : laissé vide, à vérifier")
                return
            else:
                result = answer
        else:
            result = parse_field(key, raw, today=self.ctx.today)
        if result is None:
            return
        if isinstance(result, FieldProblem):
            if not hint:
                self.problems.setdefault(key, result)
            return
        self.problems.pop(key, None)
        self.values[key] = result

    def read(self, key: str, raw: str) -> None:
        """Route one cell, splitting the compound columns ("Nom Prénom", "CP Ville", "Contact")."""
        if key in (NOM_PRENOM, PRENOM_NOM):
            nom, prenom, civility, rest = split_full_name(raw, prenom_first=key == PRENOM_NOM)
            self.put("nom", nom)
            self.put("prenom", prenom)
            self.put("sexe", civility, hint=True)
            self.put("date_naissance", rest, hint=True)
        elif key == CP_COMMUNE:
            postal, town = split_cp_commune(raw)
            self.put("code_postal", postal or raw)
            self.put("commune", town, hint=True)
        elif key == "commune":
            postal, town = split_cp_commune(raw)
            self.put("commune", town if postal and town else raw)
            self.put("code_postal", postal, hint=True)
        elif key == CONTACT:
            for part in re.split(r"[,;/|\n]|\s-\s|\s+ou\s+|\s+et\s+", raw):
                if "@" in part or re.search(r"\d{2}", part):
                    self.put("email" if "@" in part else "telephone", part, hint=True)
        elif key in ("nom", "nom_usage") and CIVILITY.match(raw):
            title = CIVILITY.match(raw)
            self.put("sexe", title[1] if title else "", hint=True)
            self.put(key, CIVILITY.sub("", raw))
        elif key == "adresse":
            self.put(key, raw)
            postal, town = split_cp_commune(raw, anywhere=True)
            self.put("code_postal", postal, hint=True)
            self.put("commune", town, hint=True)
        elif key in CANONICAL_KEYS:
            self.put(key, raw)


def read_row(sheet: str, number: int, cells: list[Any], header: col.Header,
             ctx: RowContext) -> RowPlan:
    """What row ``number`` of ``sheet`` (below ``header``) will become."""
    plan = RowPlan(sheet=sheet, number=number)
    texts = [cell_text("", c, ctx) for c in cells]
    filled = [t for t in texts if t]
    if not filled:
        plan.outcome, plan.why = "skipped", "ligne vide"
        return plan
    by_key: dict[str, Any] = {}
    for index, key in header.keys.items():
        if index < len(cells) and key != IGNORED and cells[index] not in (None, ""):
            by_key.setdefault(key, cells[index])
    name = normalise(str(by_key.get("nom") or by_key.get(NOM_PRENOM) or ""))
    if _TOTAL.match(normalise(filled[0])) and (not name or _TOTAL.match(name)):
        plan.outcome, plan.why = "skipped", "ligne de total"
        return plan

    values = _Collector(ctx)
    for key, value in by_key.items():
        if key not in col.IMPORT_KEYS:
            values.read(key, cell_text(key, value, ctx))
    if "nom" not in values.values and "nom_usage" in values.values:
        values.values["nom"] = values.values["nom_usage"]
    if not (values.values.get("nom") or values.values.get("ins")):
        plan.outcome, plan.why = "rejected", "ni nom ni INS : patient impossible à identifier"
        return plan
    if ctx.assume_consent and "consentement" not in values.values and (
            "consentement" not in values.problems):
        values.values["consentement"] = True
    _postal_code_of_commune(values, ctx)
    plan.fields = values.values
    plan.notes.extend(values.notes)
    known = set(values.values) | set(values.problems)
    missing = [p for p in missing_problems(values.values)
               if p.key not in values.problems and not (p.key == "telephone" and
                                                        {"telephone", "email"} & known)]
    order = {key: n for n, key in enumerate(CANONICAL_KEYS)}
    plan.problems = sorted([*values.problems.values(), *missing],
                           key=lambda p: order.get(p.key, len(order)))

    plan.received_at = _moment(by_key.get(col.RECEIVED), ctx)
    if plan.received_at is None and by_key.get(col.RECEIVED) is None:
        plan.no_received_date = True
    elif plan.received_at is None:
        written = cell_text(col.RECEIVED, by_key[col.RECEIVED], ctx)
        plan.notes.append(f"date d'inscription « {written[:40]} » illisible : "
                          "rang = date de l'import")
    email = by_key.get(col.REFERRER_EMAIL)
    if email is not None:
        found = parse_email(cell_text(col.REFERRER_EMAIL, email, ctx))
        plan.referrer_email = found if isinstance(found, str) else None
    return _with_status(plan, by_key, ctx)


def _postal_code_of_commune(values: _Collector, ctx: RowContext) -> None:
    """A commune without its postal code: the code when the commune has only one, else ask."""
    commune = values.values.get("commune")
    if not isinstance(commune, str) or "code_postal" in values.values or (
            "code_postal" in values.problems):
        return
    codes = postal_codes(commune, ctx.territory)
    if len(codes) == 1:
        values.values["code_postal"] = codes[0]
        values.notes.append(f"code postal {codes[0]} déduit de la commune (base officielle des "
                            "codes postaux)")
    elif codes:
        values.problems["code_postal"] = FieldProblem(
            "code_postal", "missing",
            f"la commune « {commune} » a plusieurs codes postaux ({', '.join(codes)}) : "
            "lequel est celui du patient ?", codes[0])


def _with_status(plan: RowPlan, by_key: dict[str, Any], ctx: RowContext) -> RowPlan:
    raw = cell_text(col.STATUS, by_key.get(col.STATUS), ctx)
    exit_reason = cell_text(col.EXIT_REASON, by_key.get(col.EXIT_REASON), ctx)
    override = ctx.statuses.get(normalise(raw)) if raw else None
    status = override or read_status(raw)
    if status is None and not is_blank(raw):
        status = read_status(exit_reason)
        if status is None:
            plan.outcome = "rejected"
            plan.why = (f"statut « {raw[:40]} » non compris (préciser avec --status "
                        f"\"{raw[:40]}=en attente\", ou résolue, clôturée, incomplète)")
            return plan
    if status is None and by_key.get(col.GP) not in (None, ""):
        status = read_status("attribué")
    if status is None and exit_reason:
        status = read_status(exit_reason)
    if status is None:  # a sheet named "En attente" or "Attribués" says it for all its rows
        status = ctx.sheet_status or Status(EntryStatus.WAITING)
    plan.status, plan.reason = status.status, status.reason
    said = read_status(exit_reason) if exit_reason else None
    if plan.status is EntryStatus.CLOSED and said is not None and said.reason:
        plan.reason = said.reason  # "Sorti" + motif "décédé": the motif says more
    if plan.status in (EntryStatus.WAITING, EntryStatus.INCOMPLETE):
        plan.status = EntryStatus.INCOMPLETE if plan.problems else EntryStatus.WAITING
    else:
        plan.resolved_at = _moment(by_key.get(col.RESOLVED), ctx)
        if plan.resolved_at is None:
            plan.notes.append("date de sortie absente : non comptée dans les délais")
    return plan
