"""Volunteer GPs: lookup, registration, changes, pause and resume.

Every change writes a :class:`~store.models_matching.GPEvent` (the GP's own
history) and a hash-chained audit row. Values given here are already
validated (``mailbot.matching.gp_fields`` reads what people type).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import audit
from store.models_matching import GP, GPArea, GPEvent

# Columns a caller may set with :func:`create_gp` / :func:`update_gp`.
GP_COLUMNS: tuple[str, ...] = (
    "nom", "prenom", "email", "cabinet", "adresse", "telephone", "accepting",
    "capacity_per_month", "max_open_proposals", "age_bands", "accepts_ald", "accepts_complex",
    "home_visits",
)

Area = tuple[str, str | None]  # (code postal, commune or None for the whole postal code)

_SAINT = re.compile(r"\b(ST|STE)\b")


def is_valid_rpps(rpps: str) -> bool:
    """True for 11 digits whose last one is the Luhn key of the first ten."""
    if not re.fullmatch(r"\d{11}", rpps):
        return False
    total = 0
    for position, char in enumerate(reversed(rpps)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def commune_key(name: str) -> str:
    """A commune folded for comparison: ``Saint-Yrieix`` = ``ST YRIEIX`` = ``saint yrieix``."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = re.sub(r"[^A-Z0-9]+", " ", plain.upper()).strip()
    words = _SAINT.sub(lambda m: "SAINT" if m.group(1) == "ST" else "SAINTE", words)
    return words.replace(" ", "")


def get_by_rpps(session: Session, rpps: str) -> GP | None:
    """The GP with that RPPS number, or ``None``."""
    return session.scalars(select(GP).where(GP.rpps == rpps.strip())).first()


def get_by_email(session: Session, email: str) -> GP | None:
    """The GP whose MSSanté address is ``email`` (case-insensitive), or ``None``."""
    return session.scalars(select(GP).where(GP.email == email.strip().lower())).first()


def addresses(session: Session) -> set[str]:
    """Every GP's address (they are known senders)."""
    return set(session.scalars(select(GP.email)))


def list_gps(session: Session, *, accepting: bool | None = None) -> list[GP]:
    """GPs by name, optionally only those accepting (or not) new patients."""
    query = select(GP).order_by(GP.nom, GP.prenom, GP.id)
    if accepting is not None:
        query = query.where(GP.accepting.is_(accepting))
    return list(session.scalars(query))


def record_event(session: Session, gp: GP, kind: str, *, now: dt.datetime, actor: str,
                 detail: Mapping[str, Any] | None = None, audit_after: dict[str, Any] | None = None,
                 audit_before: dict[str, Any] | None = None,
                 inbound_id: int | None = None) -> GPEvent:
    """Append to a GP's history and to the audit trail."""
    event = GPEvent(gp_id=gp.id, at=now, kind=kind, actor=actor, detail=dict(detail or {}))
    session.add(event)
    audit.record(session, actor=actor, action=f"gp.{kind}", object_type="gp", object_id=gp.rpps,
                 before=audit_before, after=audit_after if audit_after is not None else dict(detail or {}),
                 inbound_message_id=inbound_id, at=now)
    return event


def _set_areas(gp: GP, areas: Iterable[Area]) -> None:
    gp.areas = [GPArea(code_postal=cp, commune=commune,
                       commune_key=commune_key(commune) if commune else None)
                for cp, commune in dict.fromkeys(areas)]


def area_labels(gp: GP) -> list[str]:
    """``["16000", "16290 Hiersac"]``: the places served, as people write them."""
    return [f"{a.code_postal} {a.commune}" if a.commune else a.code_postal for a in gp.areas]


def create_gp(session: Session, *, rpps: str, values: Mapping[str, Any], areas: Iterable[Area],
              now: dt.datetime, actor: str) -> GP:
    """Register a GP (``values`` keyed by :data:`GP_COLUMNS`)."""
    unknown = set(values) - set(GP_COLUMNS)
    if unknown:
        raise ValueError(f"unknown GP columns: {sorted(unknown)}")
    gp = GP(rpps=rpps, created_at=now, updated_at=now, accepting_changed_at=now,
            **{"accepting": True, "capacity_per_month": 2, "max_open_proposals": 1,
               "age_bands": [], "accepts_ald": True, "accepts_complex": True,
               "home_visits": False, **values})
    _set_areas(gp, areas)
    session.add(gp)
    session.flush()
    record_event(session, gp, "created", now=now, actor=actor,
                 detail={"accepting": gp.accepting, "capacity_per_month": gp.capacity_per_month,
                         "areas": area_labels(gp)})
    return gp


def update_gp(session: Session, gp: GP, *, values: Mapping[str, Any],
              areas: Iterable[Area] | None = None, now: dt.datetime, actor: str,
              inbound_id: int | None = None) -> list[str]:
    """Change some of a GP's values (and, when given, replace his areas); return what changed."""
    changed = []
    before: dict[str, Any] = {}
    for key, value in values.items():
        if key not in GP_COLUMNS:
            raise ValueError(f"unknown GP column: {key}")
        if getattr(gp, key) != value:
            before[key] = getattr(gp, key)
            setattr(gp, key, value)
            changed.append(key)
    if areas is not None:
        old = area_labels(gp)
        _set_areas(gp, areas)
        session.flush()
        if area_labels(gp) != old:
            before["areas"] = old
            changed.append("areas")
    if "accepting" in changed:
        gp.accepting_changed_at = now
    if not changed:
        return []
    gp.updated_at = now
    after = {k: (area_labels(gp) if k == "areas" else getattr(gp, k)) for k in changed}
    # The audit keeps settings, not the GP's name, address or phone.
    safe = {k: v for k, v in after.items() if k not in ("nom", "prenom", "adresse", "telephone")}
    record_event(session, gp, "updated", now=now, actor=actor, detail={"changed": changed, **safe},
                 audit_after={"changed": changed, **safe}, inbound_id=inbound_id)
    return changed


def set_accepting(session: Session, gp: GP, accepting: bool, *, now: dt.datetime, actor: str,
                  inbound_id: int | None = None) -> bool:
    """Pause (``False``) or resume (``True``) proposals to a GP; return whether it changed."""
    if gp.accepting == accepting:
        return False
    gp.accepting = accepting
    gp.accepting_changed_at = now
    gp.updated_at = now
    record_event(session, gp, "resumed" if accepting else "paused", now=now, actor=actor,
                 detail={"accepting": accepting}, audit_before={"accepting": not accepting},
                 inbound_id=inbound_id)
    return True


def set_capacity(session: Session, gp: GP, capacity: int, *, now: dt.datetime, actor: str,
                 inbound_id: int | None = None) -> bool:
    """Set a GP's monthly capacity; return whether it changed."""
    if gp.capacity_per_month == capacity:
        return False
    before = gp.capacity_per_month
    gp.capacity_per_month = capacity
    gp.updated_at = now
    record_event(session, gp, "capacity", now=now, actor=actor,
                 detail={"capacity_per_month": capacity},
                 audit_before={"capacity_per_month": before}, inbound_id=inbound_id)
    return True
