"""The mails and the data of ``benchmarks/recontact.py``: intake, patient and GP replies.

Each measured step drops raw mails into the inbound Maildir and times the real
inbound pipeline over them (stored, classified, parsed, acted on, answer in the
outbox) — the outbox is delivered afterwards, outside the measure, so intake and
replies are timed alike.
"""

from __future__ import annotations

import asyncio
import cProfile
import datetime as dt
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from benchmarks.mailgen import referral_mail
from mailbot.app import App
from mailbot.clock import PARIS
from mailbot.inbound.pipeline import Pipeline
from mailbot.transports.factory import inbound_transport
from store.models import Entry, EntryStatus, OutboxMessage, Token
from store.models_matching import GP, GPArea, Proposal, ProposalState
from store.refs import random_code

OWN = "liste-attente@cpts-exemple.mssante.fr"
ASK = dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
CODE = "16000"
PATIENT_ANSWERS = ["OUI", "Oui toujours", "NON", "Non merci j'ai trouvé un médecin", "oui merci",
                   "Je ne sais pas"]
# GP answers to a proposal: half accept, half decline (one with a reason).
GP_ANSWERS = ["OUI", "Oui, je prends ce patient.", "NON", "Non merci, pas de place en ce moment."]


def populate(app: App, count: int, rng: random.Random) -> None:
    """``count`` waiting entries with a personal address, registered two months ago."""
    registered = ASK - dt.timedelta(days=60)
    refs: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(refs) < count:
        refs.add("E-" + random_code(6))
    for i, ref in enumerate(sorted(refs, key=lambda _r: rng.random())):
        rows.append({
            "ref": ref, "status": EntryStatus.WAITING, "received_at": registered,
            "created_at": registered, "updated_at": registered, "status_changed_at": registered,
            "problems": [], "nom": f"NOM{i}", "prenom": "Prénom", "email": f"patient{i}@example.org",
            "telephone": "+33612345678", "code_postal": CODE, "commune": "Angoulême",
            "date_naissance": dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 20000)),
            "consentement": True, "ald": False, "css": False, "ame": False,
            "mobilite_reduite": False, "situation_complexe": False, "urgent": False,
            "priority": False, "referrer_email": "coordination@dac16.mssante.fr",
        })
    with app.db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Entry), rows[start:start + 5000])


def add_gps(app: App, count: int, *, open_proposals: int) -> None:
    """``count`` accepting GPs serving the entries' postal code, room for many patients a month."""
    created = ASK - dt.timedelta(days=400)
    with app.db.transaction() as session:
        for n in range(count):
            gp_id = session.execute(insert(GP).returning(GP.id), {
                "rpps": f"9{n:010d}", "nom": f"GP{n}", "prenom": "Paul",
                "email": f"gp{n}@medecin.mssante.fr", "cabinet": f"Cabinet {n}",
                "adresse": "1 rue des Lilas", "telephone": "+33545123456", "accepting": True,
                "capacity_per_month": 1000, "max_open_proposals": open_proposals,
                "age_bands": [], "accepts_ald": True, "accepts_complex": True,
                "home_visits": True, "created_at": created, "updated_at": created,
                "accepting_changed_at": created}).scalar_one()
            session.execute(insert(GPArea), {"gp_id": gp_id, "code_postal": CODE,
                                             "commune": None, "commune_key": None})


def _drop(root: Path, name: str, mails: list[bytes]) -> None:
    new = root / "var" / "inbox" / "new"
    for i, raw in enumerate(mails):
        (new / f"{name}{i:07d}.bench").write_bytes(raw)


def through_pipeline(app: App, root: Path, name: str, mails: list[bytes],
                     profile: cProfile.Profile | None = None,
                     ) -> tuple[Counter[str], float, float]:
    """Drop ``mails`` into the inbox and run the inbound pipeline over them: (states, wall
    seconds, CPU seconds of this process — steadier than wall time on a shared machine).

    What :meth:`Pipeline.run_once` does before delivering the outbox; the
    delivery is left out of the measure (it is the same for every kind of mail).
    """
    _drop(root, name, mails)
    pipeline = Pipeline(app, inbound_transport(app.config.inbound))

    async def ingest() -> Counter[str]:
        handled: Counter[str] = Counter()
        await pipeline.inbound.open()
        try:
            while True:
                one = await pipeline.ingest(500)
                handled.update(one.states)
                if one.fetched < 500 or sum(one.states.values()) == 0:
                    break
        finally:
            await pipeline.inbound.close()
        return handled

    if profile is not None:
        profile.enable()
    start, cpu = time.perf_counter(), time.process_time()
    handled = asyncio.run(ingest())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profile is not None:
        profile.disable()
    return handled, elapsed, cpu


def referrals(rng: random.Random, count: int, first: int) -> list[bytes]:
    """``count`` varied referral mails (``benchmarks/mailgen.py``), numbered from ``first``."""
    return [referral_mail(rng, first + i) for i in range(count)]


def patient_replies(app: App, count: int, rng: random.Random) -> list[bytes]:
    """Answers to the first ``count`` recontact questions, threaded under them."""
    with app.db.sessions() as session:
        questions = session.execute(
            select(OutboxMessage.message_id, OutboxMessage.recipients)
            .where(OutboxMessage.kind == "recontact").order_by(OutboxMessage.id).limit(count)).all()
    return [(f"From: {recipients[0]}\r\nTo: {OWN}\r\nSubject: RE: question\r\n"
             f"Message-ID: <p{i}@example.org>\r\nIn-Reply-To: {message_id}\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\n"
             + rng.choice(PATIENT_ANSWERS) + "\r\n").encode("utf-8")
            for i, (message_id, recipients) in enumerate(questions)]


def gp_replies(app: App, count: int, rng: random.Random) -> list[bytes]:
    """Answers of the GPs to ``count`` pending proposals (OUI or NON), threaded under them."""
    with app.db.sessions() as session:
        asked = session.execute(
            select(Token.code, Token.outbox_message_id, GP.email)
            .join(Proposal, Proposal.id == Token.object_id).join(GP, GP.id == Proposal.gp_id)
            .where(Token.kind == "P", Proposal.state == ProposalState.PENDING)
            .order_by(Token.id).limit(count)).all()
    return [(f"From: {address}\r\nTo: {OWN}\r\n"
             f"Subject: RE: Proposition d'un patient [CPTS-P-{code}]\r\n"
             f"Message-ID: <g{i}@medecin.mssante.fr>\r\nIn-Reply-To: {message_id}\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\n"
             + rng.choice(GP_ANSWERS) + "\r\n").encode("utf-8")
            for i, (code, message_id, address) in enumerate(asked)]
