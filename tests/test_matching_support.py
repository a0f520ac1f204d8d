"""Helpers shared by the GP / matching tests (this module holds no test)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from mailbot.app import App
from store import entries, gps
from store.models import Entry, EntryStatus
from store.models_matching import GP

DAC = "coordination@dac16.mssante.fr"
T0 = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)  # a Monday, 08:00 in Paris


def rpps(n: int) -> str:
    """A valid RPPS number (Luhn key) built from ``n``."""
    base = f"10{n:08d}"
    for key in "0123456789":
        if gps.is_valid_rpps(base + key):
            return base + key
    raise AssertionError("no Luhn key")  # pragma: no cover


def gp_email(n: int) -> str:
    """The MSSanté address of test GP ``n``."""
    return f"dr.gp{n}@medecin.mssante.fr"


def add_gp(session: Session, n: int, *, areas: list[tuple[str, str | None]] | None = None,
           now: dt.datetime = T0, **values: Any) -> GP:
    """Register test GP ``n`` (Dr Paul GP<n>, serving 16000 unless told otherwise)."""
    base: dict[str, Any] = {"nom": f"GP{n}", "prenom": "Paul", "email": gp_email(n),
                            "cabinet": f"Cabinet {n}", "adresse": f"{n} rue des Lilas, 16000 Angoulême",
                            "telephone": "+33545123456", "capacity_per_month": 3,
                            "max_open_proposals": 1}
    return gps.create_gp(session, rpps=rpps(n), values={**base, **values},
                         areas=areas if areas is not None else [("16000", None)], now=now,
                         actor="test")


def add_entry(session: Session, n: int, *, received: dt.datetime, birth: dt.date = dt.date(1980, 5, 5),
              code_postal: str = "16000", commune: str = "Angoulême", email: str | None = "",
              now: dt.datetime | None = None, **fields: Any) -> Entry:
    """A waiting entry registered at ``received``."""
    values: dict[str, Any] = {
        "nom": f"PATIENT{n}", "prenom": "Marie", "date_naissance": birth, "sexe": "F",
        "telephone": "+33612345678", "code_postal": code_postal, "commune": commune,
        "adresse": "12 rue des Roses", "consentement": True, "motif": "diabète",
        "referent_nom": "Mme Martin", "referent_structure": "DAC 16",
        "email": f"patient{n}@example.org" if email == "" else email, **fields}
    return entries.create_entry(session, fields={k: v for k, v in values.items() if v is not None},
                                status=EntryStatus.WAITING, problems=[], now=now or received,
                                received_at=received, referrer_email=DAC, referrer_name="Mme Martin")


def reply(sender: str, body: str, *, subject: str, message_id: str,
          in_reply_to: str | None = None) -> bytes:
    """A GP's plain-text mail."""
    headers = (f"From: {sender}\r\nTo: liste-attente@cpts-exemple.mssante.fr\r\n"
               f"Subject: {subject}\r\nDate: Mon, 02 Nov 2026 12:00:00 +0100\r\n"
               f"Message-ID: <{message_id}>\r\n")
    if in_reply_to:
        headers += f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
    return (headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + body).encode("utf-8")


def token_in(subject: str, kind: str = "P") -> str:
    """The token code of a ``[CPTS-<kind>-…]`` subject."""
    match = re.search(rf"\[CPTS-{kind}-([0-9A-Z]+)\]", subject)
    assert match, subject
    return match.group(1)


def config_with(app: App, **matching: Any) -> None:
    """Replace ``[matching]`` settings in-process (the config is frozen: copy it)."""
    new = app.config.matching.model_copy(update=matching)
    app.config = app.config.model_copy(update={"matching": new})


def values(mapping: Mapping[str, Any], *keys: str) -> tuple[Any, ...]:
    """Several values of a mapping at once."""
    return tuple(mapping[k] for k in keys)
