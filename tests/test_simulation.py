"""Twelve months of matching, simulated through the real workflows, then checked.

2 000 referrals arrive over the year (a shorter world keeps the rate, see ``CASES``); 30 GPs with varied places, criteria,
capacities and pauses receive proposals from the real ``proposals`` job,
answer by mail through the real pipeline (accept, decline, silence,
ambiguous), send PAUSE / REPRISE / CAPACITE / DEMANDE, answer the "devenu
MT ?" follow-ups; patients find doctors alone. The clock moves in-process.

The checks replay the hash-chained audit trail, which records every state
change in order, against an independent model of the rules: one GP at a
time per entry, capacity and open proposals, no proposal to a paused GP or
outside his criteria and places, the mix rule, and — for every policy — no
entry overtaken by a later compatible one with a worse rank. Then every
entry must end consistent, and the fairness report is produced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from mailbot.clock import PARIS
from mailbot.inbound.pipeline import Pipeline
from mailbot.jobs.schedule import run_job
from mailbot.matching.fairness import fairness_report
from mailbot.transports.factory import inbound_transport
from mailbot.workflows.proposals import withdraw
from store import audit, entries
from store.models import AuditRecord, Entry, EntryEvent, EntryStatus, Token
from store.models_matching import GP, Proposal
from tests.conftest import BACKENDS
from tests.helpers import Bot
from tests.test_matching_support import add_entry, add_gp, config_with, reply

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
PLACES = [("16000", "Angoulême"), ("16100", "Cognac"), ("16290", "Hiersac"),
          ("16290", "Saint-Saturnin"), ("16400", "La Couronne"), ("16800", "Soyaux")]
BANDS = {"0-5": (0, 5), "6-17": (6, 17), "18-69": (18, 69), "70+": (70, 200)}
ACCEPT = ["OUI", "Oui je la prends.\n\nDr X\nEnvoyé depuis mon iPhone", "ok pour moi",
          "D'accord, qu'il appelle le secrétariat."]
DECLINE = ["NON", "Non, je suis complet.", "Désolé, pas possible en ce moment."]
AMBIGUOUS = ["Je vous rappelle", "Peut-être, pouvez-vous m'en dire plus ?"]


def age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass
class Sim:
    """The simulated world around one bot."""

    bot: Bot
    rng: random.Random
    days: int
    referrals: int
    gps: int
    mail: dict[dt.date, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    seen_proposals: int = 0
    seen_followups: set[int] = field(default_factory=set)
    counter: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def app(self) -> Any:
        return self.bot.app

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(hours=hour)
        self.app.clock.frozen = moment
        return moment

    def setup_gps(self) -> None:
        rng = self.rng
        with self.app.db.transaction() as session:
            for n in range(self.gps):
                codes = rng.sample(sorted({cp for cp, _ in PLACES if cp != "16290"}), rng.randint(1, 3))
                areas: list[tuple[str, str | None]] = [(cp, None) for cp in codes]
                if rng.random() < 0.3:
                    areas.append(("16290", rng.choice(["Hiersac", "Saint-Saturnin"])))
                bands = rng.choice([[], [], [], [], ["0-5", "6-17"], ["18-69", "70+"],
                                    ["6-17", "18-69"]])
                add_gp(session, n, areas=areas, now=self.at(START.date(), 5),
                       capacity_per_month=rng.randint(1, 5), max_open_proposals=rng.randint(1, 3),
                       age_bands=bands, accepts_ald=rng.random() < 0.9,
                       accepts_complex=rng.random() < 0.7, home_visits=rng.random() < 0.4)

    def arrivals(self, day: dt.date, count: int) -> None:
        rng = self.rng
        now = self.at(day, 6)
        with self.app.db.transaction() as session:
            for _ in range(count):
                self.counter += 1
                cp, commune = rng.choice(PLACES)
                years = rng.choices([rng.randint(0, 5), rng.randint(6, 17), rng.randint(18, 69),
                                     rng.randint(70, 95)], weights=[12, 10, 55, 23])[0]
                birth = day - dt.timedelta(days=years * 365 + rng.randint(0, 364))
                add_entry(session, self.counter, now=now,
                          received=now - dt.timedelta(seconds=rng.randint(60, 86_000)),
                          birth=birth, code_postal=cp, commune=commune,
                          email=None if rng.random() < 0.15 else "",
                          ald=rng.random() < 0.25, css=rng.random() < 0.1, ame=rng.random() < 0.03,
                          urgent=rng.random() < 0.05, situation_complexe=rng.random() < 0.1,
                          mobilite_reduite=rng.random() < 0.06)

    def schedule_answers(self, day: dt.date) -> None:
        """GPs decide how (and whether) to answer new proposals and follow-ups."""
        rng = self.rng
        with self.app.db.sessions() as session:
            new = session.scalars(select(Proposal).where(Proposal.id > self.seen_proposals)
                                  .order_by(Proposal.id)).all()
            for proposal in new:
                self.seen_proposals = proposal.id
                r = rng.random()
                texts = ACCEPT if r < 0.5 else DECLINE if r < 0.72 else AMBIGUOUS if r < 0.8 else None
                self.outcomes["accept" if r < 0.5 else "decline" if r < 0.72 else
                              "ambiguous" if r < 0.8 else "silence"] += 1
                if texts:
                    self._answer(session, proposal, "P", rng.choice(texts), day + dt.timedelta(rng.randint(0, 4)))
            asked = session.scalars(select(Proposal).where(Proposal.followup_state == "asked")).all()
            for proposal in asked:
                if proposal.id in self.seen_followups:
                    continue
                self.seen_followups.add(proposal.id)
                r = rng.random()
                text = ("Oui, déclaration faite." if r < 0.75 else "Non, jamais venu" if r < 0.85
                        else "Je ne sais pas" if r < 0.9 else None)
                if text:
                    self._answer(session, proposal, "S", text, day + dt.timedelta(rng.randint(0, 5)))

    def _answer(self, session: Any, proposal: Proposal, kind: str, text: str, day: dt.date) -> None:
        code = session.scalars(select(Token.code).where(Token.kind == kind,
                                                        Token.object_id == proposal.id)
                               .order_by(Token.id)).first()
        self.mail[day].append((proposal.gp.email, f"RE: [CPTS-{kind}-{code}] Proposition", text))

    def commands(self, day: dt.date) -> None:
        """Pauses of a few weeks, capacity changes and requests, by mail."""
        rng = self.rng
        with self.app.db.sessions() as session:
            doctors = session.scalars(select(GP).order_by(GP.id)).all()
            for gp in doctors:
                if gp.accepting and rng.random() < 1 / 60:
                    self.mail[day].append((gp.email, "Absence", "PAUSE"))
                    back = day + dt.timedelta(days=rng.randint(7, 30))
                    self.mail[back].append((gp.email, "REPRISE", ""))
                elif rng.random() < 1 / 120:
                    self.mail[day].append((gp.email, "Capacité", f"CAPACITE {rng.randint(1, 6)}"))
                elif rng.random() < 1 / 90:
                    self.mail[day].append((gp.email, "Demande", f"DEMANDE {rng.randint(1, 3)}"))

    def deliver_mail(self, day: dt.date) -> None:
        self.at(day, 11)
        for sender, subject, body in self.mail.pop(day, []):
            self.counter += 1
            self.bot.drop(reply(sender, body, subject=subject, message_id=f"sim-{self.counter}@x.fr"))
        pipeline = Pipeline(self.app, inbound_transport(self.app.config.inbound))

        async def ingest() -> None:
            await pipeline.inbound.open()
            try:
                while (await pipeline.ingest(500)).fetched:
                    pass
            finally:
                await pipeline.inbound.close()

        asyncio.run(ingest())

    def patients_alone(self, day: dt.date) -> None:
        now = self.at(day, 18)
        with self.app.db.transaction() as session:
            candidates = session.scalars(select(Entry.id).where(
                Entry.status.in_((EntryStatus.WAITING, EntryStatus.PROPOSED)))).all()
            for entry_id in candidates:
                if self.rng.random() < 0.002:
                    entry = session.get(Entry, entry_id)
                    assert entry is not None
                    if entry.status == EntryStatus.PROPOSED:
                        withdraw(self.app, session, entry, now, "sim:recontact")
                    entries.set_status(session, entry, EntryStatus.RESOLVED, now=now,
                                       actor="sim:recontact",
                                       reason="a trouvé un médecin seul (réponse au recontact)")

    def run(self) -> None:
        self.setup_gps()
        per_day = [0] * self.days
        for _ in range(self.referrals):
            per_day[min(self.days - 1, int(self.rng.random() ** 1.15 * self.days))] += 1
        for offset in range(self.days):
            day = START.date() + dt.timedelta(days=offset)
            self.arrivals(day, per_day[offset])
            if day.weekday() < 5:
                self.at(day, 7)
                run_job(self.app, "proposals")
            self.at(day, 8)
            run_job(self.app, "proposals_expiry")
            self.at(day, 8.5)
            run_job(self.app, "followup")
            self.schedule_answers(day)
            self.commands(day)
            self.deliver_mail(day)
            self.schedule_answers(day)
            self.patients_alone(day)


# ---------------------------------------------------------------- the independent model


def _in_group(key: str, entry: Any, day: dt.date) -> bool:
    years = age(entry.date_naissance, day)
    return {"under_6": years <= 5, "over_70": years >= 71, "ald": entry.ald,
            "css_ame": entry.css or entry.ame, "urgent": entry.urgent}[key]


@dataclass
class Model:
    """What the rules allow, replayed from the audit trail in order."""

    config: Any
    entries: dict[str, Any]  # ref → plain snapshot of the entry (see snapshot())
    gps: dict[str, Any]      # RPPS → plain snapshot of the GP
    status: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    accepting: dict[str, bool] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    pending: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    pending_entry: dict[str, int] = field(default_factory=dict)
    proposals: dict[int, tuple[str, str]] = field(default_factory=dict)
    live_complex: dict[str, dict[int, dt.datetime]] = field(default_factory=lambda: defaultdict(dict))
    accepted: dict[str, list[dt.datetime]] = field(default_factory=lambda: defaultdict(list))
    pairs: set[tuple[str, str]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    checked: int = 0
    compared: int = 0  # (proposal, better-placed rival it could have overtaken) pairs examined

    def key(self, entry: Any, at: dt.datetime) -> tuple[Any, ...]:
        day = at.astimezone(PARIS).date()
        policy = self.config.policy
        if policy == "criteria":
            groups = list(self.config.groups)
            position = next((i for i, g in enumerate(groups) if _in_group(g, entry, day)), len(groups))
            return (position, entry.received_at, entry.id)
        if policy == "weighted":
            score = sum(w for g, w in self.config.weights.items() if _in_group(g, entry, day))
            score += (at - entry.received_at).total_seconds() / 86400
            return (-round(score, 6), entry.received_at, entry.id)
        return (entry.received_at, entry.id)

    def serves(self, gp: Any, entry: Any) -> bool:
        return any(a.code_postal == entry.code_postal and a.commune in (None, entry.commune)
                   for a in gp.areas)

    def compatible(self, gp: Any, entry: Any, at: dt.datetime) -> bool:
        years = age(entry.date_naissance, at.astimezone(PARIS).date())
        bands = gp.age_bands or list(BANDS)
        return (any(BANDS[b][0] <= years <= BANDS[b][1] for b in bands)
                and (gp.accepts_ald or not entry.ald)
                and (gp.accepts_complex or not entry.situation_complexe)
                and (gp.home_visits or not entry.mobilite_reduite) and self.serves(gp, entry))

    def complex_quota_left(self, rpps: str, at: dt.datetime) -> bool:
        limit = self.config.mix_max_complex
        if limit is None:
            return True
        since = at - dt.timedelta(days=self.config.mix_period_days)
        return sum(1 for t in self.live_complex[rpps].values() if t >= since) < limit

    def set_status(self, ref: str, status: str) -> None:
        cp = self.entries[ref].code_postal
        self.waiting[cp].discard(ref)
        if status == "waiting":
            self.waiting[cp].add(ref)
        self.status[ref] = status

    def fail(self, message: str) -> None:
        self.violations.append(message)

    def create(self, pid: int, ref: str, rpps: str, kind: str, at: dt.datetime) -> None:
        self.checked += 1
        gp, entry = self.gps[rpps], self.entries[ref]
        if ref in self.pending_entry:
            self.fail(f"{ref} proposed to two GPs at once ({self.pending_entry[ref]}, {pid})")
        if self.status.get(ref) != "waiting":
            self.fail(f"{ref} proposed while {self.status.get(ref)}")
        if not self.accepting[rpps]:
            self.fail(f"proposal {pid} to paused GP {rpps}")
        month = at.astimezone(PARIS).strftime("%Y-%m")
        this_month = sum(1 for t in self.accepted[rpps] if t.astimezone(PARIS).strftime("%Y-%m") == month)
        if len(self.pending[rpps]) + this_month >= self.capacity[rpps]:
            self.fail(f"proposal {pid}: capacity {self.capacity[rpps]} of {rpps} exceeded")
        if kind != "request" and len(self.pending[rpps]) >= gp.max_open_proposals:
            self.fail(f"proposal {pid}: more than {gp.max_open_proposals} open for {rpps}")
        if not self.compatible(gp, entry, at):
            self.fail(f"proposal {pid}: {ref} outside the criteria or places of {rpps}")
        if entry.situation_complexe and not self.complex_quota_left(rpps, at):
            self.fail(f"proposal {pid}: mix rule broken for {rpps}")
        mine = self.key(entry, at)
        for area_cp in {a.code_postal for a in gp.areas}:
            for other_ref in self.waiting[area_cp]:
                other = self.entries[other_ref]
                if (other_ref == ref or other_ref in self.pending_entry
                        or (rpps, other_ref) in self.pairs
                        or not self.compatible(gp, other, at)
                        or (other.situation_complexe and not self.complex_quota_left(rpps, at))):
                    continue
                self.compared += 1
                if self.key(other, at) < mine:
                    self.fail(f"proposal {pid} ({kind}): {ref} overtook {other_ref} at {rpps}")
        self.pairs.add((rpps, ref))
        self.pending[rpps].add(pid)
        self.pending_entry[ref] = pid
        self.proposals[pid] = (ref, rpps)
        if entry.situation_complexe:
            self.live_complex[rpps][pid] = at

    def decide(self, pid: int, state: str, at: dt.datetime) -> None:
        ref, rpps = self.proposals[pid]
        if self.pending_entry.get(ref) != pid:
            self.fail(f"proposal {pid} decided ({state}) while not pending")
        self.pending_entry.pop(ref, None)
        self.pending[rpps].discard(pid)
        if state == "accepted":
            self.accepted[rpps].append(at)
        else:
            self.live_complex[rpps].pop(pid, None)

    def replay(self, rows: list[Any]) -> None:
        for row in rows:
            after = row.after or {}
            if row.action == "gp.created":
                self.accepting[row.object_id] = after["accepting"]
                self.capacity[row.object_id] = after["capacity_per_month"]
            elif row.action in ("gp.paused", "gp.resumed"):
                self.accepting[row.object_id] = row.action == "gp.resumed"
            elif row.action == "gp.capacity":
                self.capacity[row.object_id] = after["capacity_per_month"]
            elif row.action in ("entry.create", "entry.status"):
                self.set_status(row.object_id, after["status"])
            elif row.action == "proposal.create":
                self.create(int(row.object_id), after["entry"], after["gp"], after["kind"], row.at)
            elif row.action.startswith("proposal."):
                self.decide(int(row.object_id), row.action.split(".", 1)[1], row.at)


ENTRY_FIELDS = ("id", "ref", "code_postal", "commune", "date_naissance", "received_at", "ald", "css",
                "ame", "urgent", "situation_complexe", "mobilite_reduite")


def snapshot_entry(entry: Any) -> SimpleNamespace:
    """The fields the model reads, as plain attributes (the ORM's are slow to read a million times)."""
    return SimpleNamespace(**{name: getattr(entry, name) for name in ENTRY_FIELDS})


def snapshot_gp(gp: Any) -> SimpleNamespace:
    """A GP's criteria and places as plain attributes."""
    return SimpleNamespace(
        rpps=gp.rpps, age_bands=list(gp.age_bands or []), accepts_ald=gp.accepts_ald,
        accepts_complex=gp.accepts_complex, home_visits=gp.home_visits,
        max_open_proposals=gp.max_open_proposals,
        areas=[SimpleNamespace(code_postal=a.code_postal, commune=a.commune) for a in gp.areas])


def check_world(sim: Sim) -> Model:
    """Replay the audit trail; check the audit covers every change and entries are consistent."""
    app = sim.app
    with app.db.sessions() as session:
        all_entries = {e.ref: e for e in session.scalars(select(Entry))}
        all_gps = {g.rpps: g for g in session.scalars(select(GP))}
        for gp in all_gps.values():
            list(gp.areas)
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
        model = Model(app.config.matching,
                      {ref: snapshot_entry(e) for ref, e in all_entries.items()},
                      {rpps: snapshot_gp(g) for rpps, g in all_gps.items()})
        model.replay(rows)
        assert model.violations == [], model.violations[:10]
        assert audit.verify_chain(session) == []

        audited = Counter((r.action, r.object_id) for r in rows)
        events = Counter(e.entry_id for e in session.scalars(select(EntryEvent).where(EntryEvent.kind == "status")))
        proposals = session.scalars(select(Proposal)).all()
        by_entry: dict[int, list[Proposal]] = defaultdict(list)
        for p in proposals:
            by_entry[p.entry_id].append(p)
            assert audited["proposal.create", str(p.id)] == 1
            if p.state != "pending":
                assert audited[f"proposal.{p.state}", str(p.id)] == 1, p.id
            if p.followup_state:
                assert audited[f"followup.{p.followup_state}", str(p.id)] == 1, p.id
        for entry in all_entries.values():
            assert audited["entry.status", entry.ref] == events[entry.id], entry.ref
            assert model.status[entry.ref] == entry.status, entry.ref
            mine = by_entry[entry.id]
            pending = [p for p in mine if p.state == "pending"]
            assert len(pending) == (1 if entry.status == EntryStatus.PROPOSED else 0), entry.ref
            if entry.status == EntryStatus.MATCHED:
                last = max((p for p in mine if p.state == "accepted"), key=lambda p: p.id)
                assert last.followup_state in (None, "asked", "reminded"), entry.ref
            if entry.status == EntryStatus.RESOLVED:
                assert entry.resolved_at is not None and entry.resolution
            assert len({p.gp_id for p in mine}) == len(mine), f"{entry.ref} proposed twice to a GP"
    return model


# The scenario — 12 months, 2 000 referrals, 30 GPs — runs on each backend: under
# ``fifo`` on SQLite (the strict-order rule is the hardest to keep), under ``criteria`` with
# the mix rule on PostgreSQL; ``weighted`` gets its own world on SQLite, 6 months at the same
# arrival rate. Every policy's invariants and fairness report are thus checked in under two
# minutes per backend (SQLite ≈ 75 s, PostgreSQL ≈ 110 s at load 2 on 2 cores). MAILBOT_SIM_FULL=1 runs every
# policy on every backend over the full year (nightly).
FULL = (365, 2000)
ALL_FULL = bool(os.environ.get("MAILBOT_SIM_FULL"))


def _months(days: int) -> tuple[int, int]:
    """``days`` of simulation with the year's arrival rate."""
    return days, round(FULL[1] * days / FULL[0])


_PLAN = ([(b, p, m, FULL) for b in ("sqlite", "postgres")
          for p, m in (("fifo", None), ("criteria", 2), ("weighted", None))] if ALL_FULL else
         [("sqlite", "fifo", None, FULL), ("sqlite", "weighted", None, _months(182)),
          ("postgres", "criteria", 2, FULL)])
CASES = [case for case in _PLAN if case[0] in BACKENDS]


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "policy", "mix", "size"), CASES, indirect=["backend"],
                         ids=[f"{c[0]}-{c[1]}-{c[3][0]}d" for c in CASES])
def test_twelve_months_of_matching(bot: Bot, backend: str, policy: str, mix: int | None,
                                   size: tuple[int, int], capsys: pytest.CaptureFixture[str]) -> None:
    config_with(bot.app, policy=policy, mix_max_complex=mix)
    sim = Sim(bot, random.Random(2026), days=size[0], referrals=size[1], gps=30)
    sim.run()
    model = check_world(sim)
    with bot.app.db.sessions() as session:
        report = fairness_report(session, bot.app.config.matching, bot.app.clock.now())
        statuses = Counter(session.scalars(select(Entry.status)))
    assert sum(g.entries for g in report.groups) == sim.referrals
    assert report.policy == policy and [g.group for g in report.groups][-1] == "other"
    assert model.checked > sim.referrals // 4
    assert model.compared > model.checked  # proposals had rivals: the order check was exercised
    assert statuses["resolved"] > 0 and statuses["waiting"] > 0
    assert {"accept", "decline", "ambiguous", "silence"} <= set(sim.outcomes)
    with capsys.disabled():
        print(f"\n[{backend}, {size[0]} days] {model.checked} proposals, outcomes "
              f"{dict(sim.outcomes)}, entries {dict(statuses)}\n{report.as_text()}")


# ---------------------------------------------------------------- the model itself can fail


def _row(action: str, object_id: str, at: dt.datetime, **after: Any) -> SimpleNamespace:
    return SimpleNamespace(action=action, object_id=object_id, after=after, at=at)


def test_the_model_reports_each_kind_of_violation() -> None:
    """Fed a forged trail that breaks the rules, the model says which rule (so the year can't pass blind)."""
    from mailbot.config import MatchingConfig

    at = START + dt.timedelta(days=40)
    entries = {ref: SimpleNamespace(id=n, ref=ref, code_postal="16000", commune="Angoulême",
                                    date_naissance=dt.date(1980, 1, 1),
                                    received_at=START + dt.timedelta(days=n), ald=False, css=False,
                                    ame=False, urgent=False, situation_complexe=n == 3,
                                    mobilite_reduite=False)
               for n, ref in enumerate(["E-OLD", "E-NEW", "E-KID", "E-CPLX"])}
    entries["E-KID"].date_naissance = dt.date(2024, 1, 1)
    gp = SimpleNamespace(rpps="A", age_bands=["18-69"], accepts_ald=True, accepts_complex=True,
                         home_visits=False, max_open_proposals=1,
                         areas=[SimpleNamespace(code_postal="16000", commune=None)])
    other = SimpleNamespace(**{**vars(gp), "rpps": "B", "max_open_proposals": 5})

    def model(rows: list[SimpleNamespace], **config: Any) -> list[str]:
        checker = Model(MatchingConfig(**config), entries, {"A": gp, "B": other})
        checker.replay([_row("gp.created", "A", START, accepting=True, capacity_per_month=1),
                        _row("gp.created", "B", START, accepting=True, capacity_per_month=2),
                        *(_row("entry.create", ref, START, status="waiting") for ref in entries),
                        *rows])
        return checker.violations

    def propose(pid: int, ref: str, rpps: str, kind: str = "round") -> SimpleNamespace:
        return _row("proposal.create", str(pid), at, entry=ref, gp=rpps, kind=kind)

    assert model([propose(1, "E-OLD", "A")]) == []
    [overtook] = model([propose(1, "E-NEW", "A")])
    assert "E-NEW overtook E-OLD" in overtook
    assert any("two GPs at once" in v for v in model([propose(1, "E-OLD", "A"),
                                                        propose(2, "E-OLD", "B")]))
    paused = model([_row("gp.paused", "A", at), propose(1, "E-OLD", "A")])
    assert any("paused GP" in v for v in paused)
    assert any("outside the criteria" in v for v in model([propose(1, "E-KID", "B")]))
    full = model([propose(1, "E-OLD", "B"), propose(2, "E-NEW", "B"),
                  propose(3, "E-CPLX", "B", kind="request")])
    assert any("capacity 2 of B exceeded" in v for v in full)
    assert any("more than 1 open" in v for v in model([propose(1, "E-OLD", "A"),
                                                      propose(2, "E-NEW", "A", kind="after_decline")]))
    mix = model([propose(1, "E-CPLX", "B"), _row("proposal.declined", "1", at),
                 _row("entry.status", "E-CPLX", at, status="waiting")], mix_max_complex=0)
    assert any("mix rule" in v for v in mix)
