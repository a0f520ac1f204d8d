"""``mailbot stats``: every figure against a hand computation, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mailbot.stats import groups
from mailbot.stats.cubes import spread_of
from mailbot.stats.masking import mask, merge_small_communes
from mailbot.stats.period import Period, make_period, parse_bound
from mailbot.stats.report import build_report
from store import calls
from store.db import Database
from store.models import Entry
from store.models_matching import GP, FollowupState, Proposal, ProposalState
from store.models_recontact import CallReason
from tests import test_stats_data as data
from tests.helpers import ROOT, Bot

PERIOD = Period(data.FIRST, data.LAST, ZoneInfo("Europe/Paris"))


def _report(db: Database, *, public: bool = False, parallel: int = 4) -> dict[str, Any]:
    with db.sessions() as session:
        return build_report(session, PERIOD, now=data.NOW, public=public, mask_below=5,
                            cpts="CPTS Test", parallel=parallel)


@pytest.fixture
def people(database: Database) -> list[data.Patient]:
    """The known waitlist, written to the test database."""
    found = data.patients()
    data.build(database, found)
    return found


def test_every_figure_matches_a_hand_computation(database: Database,
                                                 people: list[data.Patient]) -> None:
    report = _report(database)
    want = data.expected(people)
    for key, value in want["requests"].items():
        assert report["requests"][key] == value, key
    assert report["resolutions"] == want["resolutions"]
    assert report["time_to_resolution"] == want["time_to_resolution"]
    assert report["snapshot"]["still_waiting"] == want["still_waiting"]
    assert report["snapshot"]["entries_by_status"] == want["entries_by_status"]
    assert report["confirmations"] == want["confirmations"]
    assert report["found_mt"]["total"] == want["found_mt"]["total"]
    assert report["found_mt"]["criteria"] == want["found_mt"]["criteria"]
    ways = report["found_mt"]["by_way"]
    assert sum(w["count"] for w in ways.values()) == want["found_mt"]["total"]
    assert sum(w["fragile"] for w in ways.values()) == want["found_mt"]["criteria"]["fragile"]["count"]
    # The same figures one query after the other as concurrently.
    assert _report(database, parallel=1) == report


def test_edge_cases_land_where_a_coordinator_expects(database: Database,
                                                     people: list[data.Patient]) -> None:
    report = _report(database)
    by_month = report["requests"]["by_month"]
    # 31 March 22:30 UTC is 1 April in Paris; both edge entries counted once.
    assert sum(by_month.values()) == report["requests"]["total"]
    assert list(by_month) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    communes = report["requests"]["by_commune"]
    angouleme = [c for c in communes if c["code_postal"] == "16000"]
    assert len(angouleme) == 1 and angouleme[0]["commune"] == "Angoulême"
    assert any(c["code_postal"] is None for c in communes)  # "not given" is a line of its own
    assert report["unavailable"] == [u for u in report["unavailable"] if u]
    text = json.dumps(report, ensure_ascii=False)
    assert "PATIENT" not in text and "Test" not in text.replace("CPTS Test", "")


def test_public_report_masks_small_counts_and_hides_gp_figures(database: Database,
                                                                people: list[data.Patient]) -> None:
    full = _report(database)
    public = _report(database, public=True)
    assert public["public"] is True and public["mask_below"] == 5
    assert "gps" not in public and "gps" not in public["unavailable"]

    def counts(node: Any, path: str = "") -> list[tuple[str, Any]]:
        if isinstance(node, dict):
            return [c for k, v in node.items() for c in counts(v, f"{path}.{k}")]
        if isinstance(node, list):
            return [c for i, v in enumerate(node) for c in counts(v, f"{path}[{i}]")]
        return [(path, node)]

    figures = {k: v for k, v in public.items() if k in ("requests", "resolutions", "snapshot",
                                                        "found_mt", "time_to_resolution")}
    for path, value in counts(figures):
        if isinstance(value, int) and not isinstance(value, bool):
            assert value == 0 or value >= 5, path
    # Small cells are masked, zeros stay, big ones are untouched.
    for key, value in full["resolutions"]["closed_by_reason"].items():
        shown = public["resolutions"]["closed_by_reason"][key]
        assert shown == value or shown is None
        if 0 < value < 5:
            assert shown is None
        if value == 0:
            assert shown == 0
    assert public["requests"]["total"] == full["requests"]["total"]
    # A masked count takes its median and share with it.
    for group, spread in public["time_to_resolution"]["by_priority_group"].items():
        if spread["count"] is None:
            assert spread["median_days"] is None and spread["p90_days"] is None, group
    # Communes under the threshold are merged into one anonymous line.
    names = [c["commune"] for c in public["requests"]["by_commune"]]
    assert "Jarnac" not in names or full_count(full, "Jarnac") >= 5


def full_count(report: dict[str, Any], town: str) -> int:
    """Requests from one commune in a full report."""
    return sum(c["count"] for c in report["requests"]["by_commune"] if c["commune"] == town)


def test_gp_acceptance_and_call_list_come_from_the_matching_and_recontact_tables(
        database: Database, people: list[data.Patient]) -> None:
    day = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
    with database.transaction() as s:
        waiting = list(s.scalars(select(Entry).where(Entry.status == "waiting").order_by(Entry.id)))
        first, second = (GP(rpps=rpps, nom=nom, email=f"dr.{nom.lower()}@medecin.mssante.fr",
                            cabinet=cabinet, created_at=day, updated_at=day,
                            accepting_changed_at=day)
                         for rpps, nom, cabinet in (("10001234567", "LAMBERT", "Cabinet des Lilas"),
                                                    ("10007654321", "NOEL", None)))
        s.add_all([first, second])
        s.flush()
        outcomes = [(first, ProposalState.ACCEPTED, FollowupState.BECAME_MT),
                    (first, ProposalState.ACCEPTED, None), (first, ProposalState.DECLINED, None),
                    (second, ProposalState.EXPIRED, None), (second, ProposalState.PENDING, None)]
        for entry, (gp, state, followup) in zip(waiting, outcomes, strict=False):
            s.add(Proposal(entry_id=entry.id, gp_id=gp.id, kind="round", state=state,
                           explanation={}, created_at=day, expires_at=day + dt.timedelta(days=7),
                           decided_at=None if state is ProposalState.PENDING else day,
                           actor="test", followup_state=followup))
        calls.add(s, waiting[-1], CallReason.NO_ANSWER, now=day)
        calls.add(s, waiting[-2], CallReason.NO_EMAIL, now=day)
    report = _report(database)
    by_gp = {g["gp"]: g for g in report["gps"]}
    assert by_gp["RPPS 10001234567"]["sent"] == 3 and by_gp["RPPS 10001234567"]["accepted"] == 2
    assert by_gp["RPPS 10001234567"]["acceptance_rate"] == round(2 / 3, 3)
    assert by_gp["RPPS 10001234567"]["practice"] == "Cabinet des Lilas"
    assert by_gp["RPPS 10007654321"]["acceptance_rate"] == 0.0
    assert by_gp["RPPS 10007654321"]["pending"] == 1
    assert "LAMBERT" not in json.dumps(report)  # statistics never show names
    assert report["snapshot"]["call_list"] == {"total": 2, "by_reason": {"no_answer": 1,
                                                                          "no_email": 1}}
    assert report["unavailable"] == []
    public = _report(database, public=True)
    assert "gps" not in public and public["snapshot"]["call_list"]["total"] is None


def test_masking_rules() -> None:
    masked = mask({"a": 3, "b": 40, "c": 12, "d": 0}, 5)
    assert masked == {"a": None, "b": 40, "c": None, "d": 0}  # lone masked cell → next smallest
    assert mask({"a": 3, "b": 2, "c": 9}, 5) == {"a": None, "b": None, "c": 9}
    assert mask({"count": 4, "median_days": 12.0, "share": 0.5}, 5) == {
        "count": None, "median_days": None, "share": None}
    assert mask({"x": {"count": 7, "p90_days": 3.0}, "y": {"count": 2, "p90_days": 1.0},
                 "z": {"count": 9, "p90_days": 2.0}}, 5) == {
        "x": {"count": None, "p90_days": None}, "y": {"count": None, "p90_days": None},
        "z": {"count": 9, "p90_days": 2.0}}
    merged = merge_small_communes([{"code_postal": "1", "commune": "A", "count": 10},
                                   {"code_postal": "2", "commune": "B", "count": 2},
                                   {"code_postal": "3", "commune": "C", "count": 1}], 5)
    assert merged[-1] == {"code_postal": None, "commune": "Autres communes", "count": 3}
    assert mask(merged, 5)[-1]["count"] is None
    assert mask(True, 5) is True and mask(None, 5) is None


def test_percentiles_are_percentile_cont() -> None:
    values = [1, 2, 2, 3, 7, 10, 40, 41]
    histogram: dict[int, int] = {}
    for v in values:
        histogram[v] = histogram.get(v, 0) + 1
    spread = spread_of(histogram)
    assert spread.count == 8
    assert spread.median == data.percentile_cont(values, 0.5) == 5.0
    assert spread.p90 == data.percentile_cont(values, 0.9)
    assert spread_of({}).median is None
    assert spread_of({12: 1}).p90 == 12


@pytest.mark.parametrize(("email", "structure", "kind"), [
    ("coordination@dac16.mssante.fr", None, "dac"), (None, "Dispositif d'appui à la coordination", "dac"),
    ("urgences@ch-angouleme.mssante.fr", None, "hopital"), (None, "CHU de Poitiers", "hopital"),
    (None, "Clinique Saint-Joseph", "hopital"), ("x@cpam-charente.mssante.fr", None, "cpam"),
    (None, "Assurance Maladie — service social", "cpam"), ("moreau@pharmacien.mssante.fr", None, "pharmacie"),
    (None, "Pharmacie du Centre", "pharmacie"), ("ide@infirmier.mssante.fr", None, "infirmier"),
    (None, "Cabinet infirmier des Lilas", "infirmier"), (None, "SSIAD", "infirmier"),
    ("assistante.sociale@mairie.fr", "CCAS", "autre"), (None, None, "autre"),
])
def test_referrer_type(email: str | None, structure: str | None, kind: str) -> None:
    assert groups.referrer_type(email, structure) == kind


def test_outcome_and_age_classifiers() -> None:
    assert groups.resolution_way("devenu médecin traitant") == "matched_by_gp"
    assert groups.resolution_way("Patient a trouvé un médecin seul") == "found_alone"
    assert groups.resolution_way("réponse NON au recontact") == "found_alone"
    assert groups.resolution_way(None) == "other_resolved"
    assert [groups.closed_reason_kind(r) for r in ("Décédée", "a déménagé", "Injoignable",
                                                   "ne souhaite plus", "Doublon de E-1", "")] == [
        "deceased", "moved_away", "unreachable", "withdrawn", "duplicate", "other"]
    assert [groups.age_band(a) for a in (None, 5, 6, 70, 71)] == [
        "unknown", "under_6", "6_17", "60_70", "over_70"]
    assert groups.group_of("40_59", groups.CSS) == "css_ame"
    assert groups.group_of("under_6", groups.ALD) == "under_6"
    assert groups.is_fragile("over_70", 0) and not groups.is_fragile("60_70", groups.MOBILITE)


def test_period_bounds() -> None:
    tz = ZoneInfo("Europe/Paris")
    assert parse_bound("2024-02", end=True) == dt.date(2024, 2, 29)
    assert parse_bound("2024", end=False) == dt.date(2024, 1, 1)
    assert parse_bound("15/03/2024", end=False) == dt.date(2024, 3, 15)
    period = make_period("2024-03", "2024-04", today=dt.date(2025, 1, 1), earliest=None, tz=tz)
    assert period.months() == ["2024-03", "2024-04"]
    assert period.start == dt.datetime(2024, 2, 29, 23, tzinfo=dt.UTC)  # winter time
    assert period.end == dt.datetime(2024, 4, 30, 22, tzinfo=dt.UTC)    # summer time
    assert period.month_bounds()[1] == dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)


def test_cli_formats_and_errors(bot: Bot, tmp_path: Path) -> None:
    data.build(bot.app.db, data.patients())
    at = ["--from", "2025-01", "--to", "2025-06", "--at", "2025-06-30T14:00"]
    as_json = json.loads(bot.cli("stats", "--format", "json", *at).stdout)
    assert as_json["format"] == "mailbot-stats/1"
    assert as_json["period"]["from"] == "2025-01-01" and as_json["period"]["to"] == "2025-06-30"
    documented = (ROOT / "docs" / "stats.md").read_text(encoding="utf-8")
    for key in _keys(as_json):
        assert re.search(rf"\b{re.escape(key)}\b", documented), f"docs/stats.md: {key}?"

    text = bot.cli("stats", *at).stdout
    assert "Demandes d'inscription" in text and "Délais" in text and "indicateur ACI" in text
    assert str(as_json["requests"]["total"]) in text

    rows = list(csv.DictReader(io.StringIO(bot.cli("stats", "--format", "csv", *at).stdout)))
    assert list(rows[0]) == ["figure", "key", "label", "value"]
    march = next(r for r in rows if r["figure"] == "requests.by_month" and r["key"] == "2025-03")
    assert int(march["value"]) == as_json["requests"]["by_month"]["2025-03"]

    public = json.loads(bot.cli("stats", "--format", "json", "--public", *at).stdout)
    assert public["public"] is True and "gps" not in public
    public_text = bot.cli("stats", "--public", *at).stdout
    assert "< 5" in public_text and "Version diffusable" in public_text
    assert "Propositions aux médecins" in text and "Propositions aux médecins" not in public_text
    public_csv = list(csv.DictReader(io.StringIO(bot.cli("stats", "--format", "csv", "--public",
                                                         *at).stdout)))
    assert any(r["value"] == "" for r in public_csv if r["figure"] == "requests.by_age_band")
    out = tmp_path / "stats.json"
    done = bot.cli("stats", "--format", "json", "--output", str(out), *at)
    assert json.loads(out.read_text(encoding="utf-8")) == as_json
    assert str(out) in done.stderr

    bad = bot.cli("stats", "--from", "2025-13-45", check=False)
    assert bad.returncode == 2 and "2025-13-45" in bad.stderr and "Traceback" not in bad.stderr
    empty = bot.cli("stats", "--from", "2025-06", "--to", "2025-01", check=False)
    assert empty.returncode == 2 and "période vide" in empty.stderr
    # Logs carry counts only.
    assert "PATIENT" not in done.stderr


def test_empty_database_gives_an_empty_report(bot: Bot) -> None:
    report = json.loads(bot.cli("stats", "--format", "json").stdout)
    assert report["requests"]["total"] == 0
    assert report["time_to_resolution"]["overall"] == {"count": 0, "median_days": None,
                                                       "p90_days": None}
    assert "Demandes" in bot.cli("stats").stdout


def _keys(node: Any) -> set[str]:
    """Every key of the report except data-driven ones (months, communes)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not re.fullmatch(r"\d{4}-\d{2}", key):
                found.add(key)
            found |= _keys(value)
    elif isinstance(node, list):
        for item in node:
            found |= _keys(item)
    return found
