"""Priority policies, compatibility, capacity and the mix rule (both backends)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from mailbot.clock import local_date
from mailbot.matching import criteria
from mailbot.matching.policy import sort_key
from mailbot.matching.pool import Pool, Rules, compatible
from mailbot.matching.round import fill_gp, run_round
from store import proposals as proposal_store
from store.models import Entry, EntryStatus
from store.models_matching import GP, Proposal, ProposalState
from tests.helpers import Bot
from tests.test_matching_support import T0, add_entry, add_gp, config_with, rpps

NOW = T0 + dt.timedelta(days=200)


def test_rpps_key_is_checked() -> None:
    from store.gps import is_valid_rpps

    assert is_valid_rpps(rpps(1234))
    good = rpps(4321)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert not is_valid_rpps(bad)
    assert not is_valid_rpps("1000345678")  # 10 digits
    assert not is_valid_rpps("1000345678A")


def _random_entries(bot: Bot, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with bot.app.db.transaction() as session:
        for n in range(count):
            birth = NOW.date() - dt.timedelta(days=rng.randint(0, 95 * 365))
            add_entry(session, n, received=T0 + dt.timedelta(hours=rng.randint(0, 150 * 24)),
                      birth=birth, ald=rng.random() < 0.3, css=rng.random() < 0.15,
                      ame=rng.random() < 0.05, urgent=rng.random() < 0.1,
                      situation_complexe=rng.random() < 0.1)


@pytest.mark.parametrize("policy", ["fifo", "criteria", "weighted"])
def test_sql_order_is_the_python_order_of_the_policy(bot: Bot, policy: str) -> None:
    _random_entries(bot, 60)
    config_with(bot.app, policy=policy)
    with bot.app.db.transaction() as session:
        gp = add_gp(session, 1)
        pool = Pool.load(session, bot.app.config.matching, NOW, {"16000"})
        rules = Rules.of(gp, local_date(NOW))
        total, candidates = pool.candidates(rules)
        entries = session.query(Entry).all()
        expected = [e.id for e in sorted(entries, key=lambda e: sort_key(bot.app.config.matching, e, NOW))]
        assert list(candidates) == expected
        assert total == len(expected) == 60


@pytest.mark.parametrize("policy", ["fifo", "criteria", "weighted"])
def test_a_whole_round_read_gives_the_same_order(bot: Bot, policy: str) -> None:
    """Many postal codes (a round) are read another way on SQLite: same candidates, same order."""
    from mailbot.matching.pool import SCAN_CODES

    codes = [f"16{n:03d}" for n in range(SCAN_CODES + 4)]
    rng = random.Random(9)
    config_with(bot.app, policy=policy)
    with bot.app.db.transaction() as session:
        for n in range(90):
            add_entry(session, n, received=T0 + dt.timedelta(hours=rng.randint(0, 150 * 24)),
                      birth=NOW.date() - dt.timedelta(days=rng.randint(0, 95 * 365)),
                      code_postal=rng.choice(codes), ald=rng.random() < 0.3,
                      urgent=rng.random() < 0.1, situation_complexe=rng.random() < 0.1)
        session.flush()
        gp = add_gp(session, 1, areas=[(cp, None) for cp in codes])
        rules = Rules.of(gp, local_date(NOW))
        whole = Pool.load(session, bot.app.config.matching, NOW, codes)
        one_by_one = [list(Pool.load(session, bot.app.config.matching, NOW, [cp])
                           .candidates(rules)[1]) for cp in codes]
        entries = session.query(Entry).all()
        expected = [e.id for e in sorted(entries, key=lambda e: sort_key(bot.app.config.matching,
                                                                         e, NOW))]
        assert list(whole.candidates(rules)[1]) == expected
        for cp, ids in zip(codes, one_by_one, strict=True):
            assert ids == [i for i in expected if whole.where[i][0] == cp]


def test_group_conditions_agree_in_sql_and_python(bot: Bot) -> None:
    _random_entries(bot, 80, seed=3)
    today = local_date(NOW)
    with bot.app.db.transaction() as session:
        entries = session.query(Entry).all()
        for key, group in criteria.GROUPS.items():
            in_sql = {e.id for e in session.query(Entry).filter(group.sql(today))}
            in_python = {e.id for e in entries if group.test(e, today)}
            assert in_sql == in_python, key
        gp = add_gp(session, 1, accepts_ald=True, accepts_complex=True, home_visits=True)
        for band, (youngest, oldest) in criteria.AGE_BANDS.items():
            gp.age_bands = [band]
            rules = Rules.of(gp, today)
            for e in entries:
                years = criteria.age_on(e.date_naissance, today)
                assert years is not None
                inside = youngest <= years and (oldest is None or years <= oldest)
                assert rules.accepts(e) == inside, (band, years)


def test_criteria_policy_puts_groups_first_then_registration_order(bot: Bot) -> None:
    config_with(bot.app, policy="criteria", groups=["under_6", "over_70", "ald", "css_ame", "urgent"])
    with bot.app.db.transaction() as session:
        plain = add_entry(session, 1, received=T0)
        ald = add_entry(session, 2, received=T0 + dt.timedelta(days=5), ald=True)
        elder = add_entry(session, 3, received=T0 + dt.timedelta(days=9), birth=dt.date(1940, 1, 1))
        child_late = add_entry(session, 4, received=T0 + dt.timedelta(days=20), birth=dt.date(2024, 1, 1))
        child_early = add_entry(session, 5, received=T0 + dt.timedelta(days=10), birth=dt.date(2023, 6, 1))
        gp = add_gp(session, 1)
        pool = Pool.load(session, bot.app.config.matching, NOW, {"16000"})
        order = list(pool.candidates(Rules.of(gp, local_date(NOW)))[1])
    assert order == [child_early.id, child_late.id, elder.id, ald.id, plain.id]


def test_weighted_policy_score_is_days_waited_plus_weights(bot: Bot) -> None:
    config_with(bot.app, policy="weighted", weights={"ald": 30.0, "urgent": 90.0})
    with bot.app.db.transaction() as session:
        old = add_entry(session, 1, received=NOW - dt.timedelta(days=100))
        ald = add_entry(session, 2, received=NOW - dt.timedelta(days=80), ald=True)   # 110
        urgent = add_entry(session, 3, received=NOW - dt.timedelta(days=5), urgent=True)  # 95
        gp = add_gp(session, 1, capacity_per_month=5, max_open_proposals=3)
        fill = fill_gp(bot.app, session, gp, NOW)
        assert [p.entry_id for p in fill.proposals] == [ald.id, old.id, urgent.id]
        why = fill.proposals[0].explanation
        assert why["policy"] == "weighted"
        assert why["terms"] == {"attente": 80.0, "ald": 30.0}
        assert why["score"] == 110.0
        assert why["rank"] == 1 and why["candidates"] == 3


def test_gp_receives_only_entries_matching_his_criteria_and_places(bot: Bot) -> None:
    today = local_date(NOW)
    with bot.app.db.transaction() as session:
        gp = add_gp(session, 1, areas=[("16000", None), ("16290", "Hiersac")], age_bands=["0-5", "6-17"],
                    accepts_ald=False, accepts_complex=False, home_visits=False)
        kid = dt.date(2020, 1, 1)
        cases = {
            "ok": add_entry(session, 1, received=T0, birth=kid),
            "ok_commune": add_entry(session, 2, received=T0, birth=kid, code_postal="16290",
                                    commune="HIERSAC"),
            "other_commune": add_entry(session, 3, received=T0, birth=kid, code_postal="16290",
                                       commune="Saint-Saturnin"),
            "other_cp": add_entry(session, 4, received=T0, birth=kid, code_postal="16100"),
            "adult": add_entry(session, 5, received=T0, birth=dt.date(1980, 1, 1)),
            "ald": add_entry(session, 6, received=T0, birth=kid, ald=True),
            "complex": add_entry(session, 7, received=T0, birth=kid, situation_complexe=True),
            "home": add_entry(session, 8, received=T0, birth=kid, mobilite_reduite=True),
        }
        session.flush()
        rules = Rules.of(gp, today)
        pool = Pool.load(session, bot.app.config.matching, NOW, rules.codes)
        total, candidates = pool.candidates(rules)
        found = set(candidates)
        assert found == {cases["ok"].id, cases["ok_commune"].id} and total == 2
        assert pool.candidates(rules, excluded={cases["ok"].id})[0] == 1
        pool.take(cases["ok_commune"].id)
        assert list(pool.candidates(rules)[1]) == [cases["ok"].id]
        for name, entry in cases.items():
            assert compatible(gp, entry, today) == (entry.id in found), name


def test_commune_keys_fold_accents_case_and_saint() -> None:
    from store.gps import commune_key

    assert commune_key("Saint-Yrieix-sur-Charente") == commune_key("ST YRIEIX SUR CHARENTE")
    assert commune_key("Angoulême") == commune_key("ANGOULEME")
    assert commune_key("Sainte-Sévère") == commune_key("Ste Severe")


def test_capacity_open_proposals_and_requests(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        for n in range(6):
            add_entry(session, n, received=T0 + dt.timedelta(days=n))
        gp = add_gp(session, 1, capacity_per_month=3, max_open_proposals=1)
    assert run_round(bot.app, NOW).proposals == 1
    assert run_round(bot.app, NOW).proposals == 0  # one open proposal at most
    with bot.app.db.transaction() as session:
        gp = session.get(GP, gp.id)
        assert gp is not None
        fill = fill_gp(bot.app, session, gp, NOW, kind="request", want=5)
        assert len(fill.proposals) == 2 and fill.limited_by == "capacity"  # 3 a month
        first = session.query(Proposal).order_by(Proposal.id).first()
        assert first is not None
        first.state = ProposalState.ACCEPTED
        first.decided_at = NOW
        fill = fill_gp(bot.app, session, gp, NOW, kind="request", want=1)
        assert fill.proposals == [] and fill.limited_by == "capacity"
        # Next month the capacity is free again (acceptances count in their month).
        later = NOW + dt.timedelta(days=31)
        for p in session.query(Proposal).filter(Proposal.state == ProposalState.PENDING):
            p.state = ProposalState.DECLINED
        assert len(fill_gp(bot.app, session, gp, later, kind="request", want=9).proposals) == 3


def test_paused_gp_gets_nothing_and_entry_goes_to_one_gp_at_a_time(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        entry = add_entry(session, 1, received=T0)
        add_gp(session, 1, accepting=False)
        add_gp(session, 2)
        add_gp(session, 3)
    report = run_round(bot.app, NOW)
    assert report.proposals == 1 and report.gps == 2
    with bot.app.db.transaction() as session:
        [proposal] = session.query(Proposal).all()
        assert proposal.gp.rpps != rpps(1)
        assert session.get(Entry, entry.id).status == EntryStatus.PROPOSED  # type: ignore[union-attr]


def test_declined_entry_is_not_proposed_again_to_the_same_gp(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        first = add_entry(session, 1, received=T0)
        second = add_entry(session, 2, received=T0 + dt.timedelta(days=1))
        gp = add_gp(session, 1)
        [proposal] = fill_gp(bot.app, session, gp, NOW).proposals
        assert proposal.entry_id == first.id
        proposal_store.set_state(session, proposal, ProposalState.DECLINED, now=NOW, actor="test")
        first.status = EntryStatus.WAITING
        [again] = fill_gp(bot.app, session, gp, NOW).proposals
        assert again.entry_id == second.id
        assert again.explanation["rank"] == 1 and again.explanation["candidates"] == 1


def test_mix_rule_caps_complex_situations_per_gp_and_period(bot: Bot) -> None:
    config_with(bot.app, mix_max_complex=1, mix_period_days=30)
    with bot.app.db.transaction() as session:
        complex_ids = [add_entry(session, n, received=T0 + dt.timedelta(days=n),
                                 situation_complexe=True).id for n in range(3)]
        simple = add_entry(session, 9, received=T0 + dt.timedelta(days=9))
        gp = add_gp(session, 1, capacity_per_month=10, max_open_proposals=10)
        fill = fill_gp(bot.app, session, gp, NOW)
        got = [p.entry_id for p in fill.proposals]
        assert got == [complex_ids[0], simple.id]
        assert fill.proposals[0].explanation["mix"] == {
            "max_complex": 1, "period_days": 30, "complex_in_period": 0}
        # The period over, another complex situation may go to him.
        later = fill_gp(bot.app, session, gp, NOW + dt.timedelta(days=31))
        assert [p.entry_id for p in later.proposals] == [complex_ids[1]]


def test_explanation_of_criteria_policy(bot: Bot) -> None:
    config_with(bot.app, policy="criteria")
    with bot.app.db.transaction() as session:
        add_entry(session, 1, received=T0)
        elder = add_entry(session, 2, received=T0 + dt.timedelta(days=3), birth=dt.date(1940, 2, 2))
        gp = add_gp(session, 1)
        [proposal] = fill_gp(bot.app, session, gp, NOW).proposals
    assert proposal.entry_id == elder.id
    why = proposal.explanation
    assert why["policy"] == "criteria" and why["group"] == "over_70"
    assert why["group_position"] == 2 and why["rank"] == 1 and why["candidates"] == 2
    assert why["waiting_days"] == 197 and why["registered"] == "2026-11-05"
    assert why["kind"] == "round" and why["gp"] == rpps(1)


def test_pool_bit_sets_agree_with_the_rules_of_each_gp(bot: Bot) -> None:
    """Age bands computed by the database and flags as bit sets give what Rules.accepts says."""
    _random_entries(bot, 120, seed=11)
    today = local_date(NOW)
    rng = random.Random(4)
    with bot.app.db.transaction() as session:
        entries = session.query(Entry).all()
        pool = Pool.load(session, bot.app.config.matching, NOW, {"16000"})
        for n in range(30):
            bands = rng.sample(list(criteria.AGE_BANDS), rng.randint(1, 4))
            gp = add_gp(session, n, age_bands=bands, accepts_ald=rng.random() < 0.5,
                        accepts_complex=rng.random() < 0.5, home_visits=rng.random() < 0.5)
            rules = Rules.of(gp, today)
            total, candidates = pool.candidates(rules)
            expected = [e.id for e in sorted(entries, key=lambda e: (e.received_at, e.id))
                        if rules.accepts(e)]
            assert list(candidates) == expected and total == len(expected), bands
