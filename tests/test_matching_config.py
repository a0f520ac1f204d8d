"""``[matching]`` and the ``proposals`` schedule as written in the configuration file (both backends).

The policy, the order of the priority groups, the weights, the mix rule and
the round's cron expression are read from the TOML file by the real command
line; wrong values are refused with the key named.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from mailbot.clock import PARIS
from mailbot.jobs import load_all
from mailbot.jobs.schedule import next_run, schedule_of
from mailbot.matching.explain import why
from store.models_matching import Proposal
from tests.helpers import Bot
from tests.test_matching_support import T0, add_entry, add_gp

AT = "2026-11-02T08:00"  # T0 in Paris time


def _configure(bot: Bot, text: str) -> None:
    """Append sections to the bot's configuration file (read by every ``bot.cli`` call)."""
    with bot.config_path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + text.strip() + "\n")


def _entries(bot: Bot) -> dict[str, int]:
    """Four waiting entries, the oldest registration first: plain, elder, child, ALD."""
    with bot.app.db.transaction() as session:
        add_gp(session, 1, capacity_per_month=10, max_open_proposals=10)
        made = {
            "plain": add_entry(session, 1, received=T0 - dt.timedelta(days=90)),
            "elder": add_entry(session, 2, received=T0 - dt.timedelta(days=80),
                               birth=dt.date(1940, 1, 1)),
            "child": add_entry(session, 3, received=T0 - dt.timedelta(days=20),
                               birth=dt.date(2023, 6, 1)),
            "ald": add_entry(session, 4, received=T0 - dt.timedelta(days=10), ald=True),
        }
        return {name: entry.id for name, entry in made.items()}


def _proposed(bot: Bot) -> list[tuple[int, dict[str, Any]]]:
    with bot.app.db.sessions() as session:
        return [(p.entry_id, p.explanation)
                for p in session.scalars(select(Proposal).order_by(Proposal.id))]


def test_criteria_policy_follows_the_configured_group_order(bot: Bot) -> None:
    ids = _entries(bot)
    _configure(bot, """
[matching]
policy = "criteria"
groups = ["ald", "under_6"]
""")
    assert "4 proposition(s)" in bot.cli("jobs", "run", "proposals", "--at", AT).stdout
    proposed = _proposed(bot)
    # ALD before children (the configured order), then the rest by registration date:
    # "over_70" is not a configured group, so the elder waits with the plain entry.
    assert [entry_id for entry_id, _ in proposed] == [ids["ald"], ids["child"], ids["plain"],
                                                      ids["elder"]]
    groups = [(why_["group"], why_["group_position"], why_["rank"]) for _, why_ in proposed]
    assert groups == [("ald", 1, 1), ("under_6", 2, 2), ("other", 3, 3), ("other", 3, 4)]
    text = why(proposed[0][1])
    assert "groupe « ALD » (1e sur 3)" in text and "rang 1 sur 4" in text


def test_weighted_policy_uses_the_configured_weights(bot: Bot) -> None:
    ids = _entries(bot)
    _configure(bot, """
[matching]
policy = "weighted"
weights = { under_6 = 100, ald = 75 }
""")
    bot.cli("jobs", "run", "proposals", "--at", AT)
    proposed = _proposed(bot)
    # Scores at T0: child 20 + 100, plain 90, ald 10 + 75, elder 80 (no weight for over_70).
    assert [entry_id for entry_id, _ in proposed] == [ids["child"], ids["plain"], ids["ald"],
                                                      ids["elder"]]
    child = proposed[0][1]
    assert child["terms"] == {"attente": 20.0, "under_6": 100.0} and child["score"] == 120.0
    assert "score 120 = attente 20 j + enfant de moins de 6 ans 100" in why(child)


def test_mix_rule_from_the_file_limits_complex_situations(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        add_gp(session, 1, capacity_per_month=10, max_open_proposals=10)
        complex_ids = [add_entry(session, n, received=T0 - dt.timedelta(days=50 - n),
                                 situation_complexe=True).id for n in range(3)]
        simple = add_entry(session, 9, received=T0 - dt.timedelta(days=1)).id
    _configure(bot, """
[matching]
mix_max_complex = 2
mix_period_days = 60
""")
    bot.cli("jobs", "run", "proposals", "--at", AT)
    proposed = _proposed(bot)
    assert [entry_id for entry_id, _ in proposed] == [*complex_ids[:2], simple]
    assert proposed[1][1]["mix"] == {"max_complex": 2, "period_days": 60, "complex_in_period": 0}


def test_the_round_schedule_is_configurable(bot: Bot) -> None:
    _configure(bot, """
[jobs]
schedules = { proposals = "30 7 * * 2", proposals_expiry = "off" }
""")
    out = bot.cli("jobs", "list", env={"COLUMNS": "200"}).stdout
    line = next(row for row in out.splitlines() if "│ proposals " in row)
    assert "30 7 * * 2" in line
    expiry = next(row for row in out.splitlines() if "proposals_expiry" in row)
    assert "désactivée" in expiry
    # The next run is a Tuesday at 07:30, Paris time.
    nxt = next(part for part in line.split("│") if part.strip().endswith("07:30"))
    day = dt.datetime.strptime(nxt.strip(), "%d/%m/%Y %H:%M")
    assert day.weekday() == 1


def test_the_default_round_runs_on_working_days_at_eight(bot: Bot) -> None:
    """Cron counts days from Sunday = 0: ``1-5`` is Monday to Friday (not APScheduler's count)."""
    job = load_all()["proposals"]
    assert schedule_of(bot.app, job) == "0 8 * * 1-5"
    after = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)  # a Friday afternoon
    runs = []
    for _ in range(6):
        nxt = next_run(bot.app, job, after)
        assert nxt is not None
        runs.append(nxt.astimezone(PARIS))
        after = nxt + dt.timedelta(minutes=1)
    assert [(r.strftime("%a"), r.hour, r.minute) for r in runs] == [
        ("Mon", 8, 0), ("Tue", 8, 0), ("Wed", 8, 0), ("Thu", 8, 0), ("Fri", 8, 0), ("Mon", 8, 0)]


def test_wrong_matching_settings_are_refused_with_the_key(bot: Bot) -> None:
    for text, key in (('[matching]\npolicy = "random"', "policy"),
                      ('[matching]\ngroups = ["ald", "ados"]', "groups"),
                      ('[matching]\ngroups = ["ald", "ald"]', "groups"),
                      ('[matching]\nweights = { teenagers = 3 }', "weights"),
                      ('[matching]\nproposal_reminder_days = 8\nproposal_expiry_days = 7',
                       "proposal_expiry_days"),
                      ('[matching]\nfollowup_reminder_days = 14\nfollowup_expiry_days = 14',
                       "followup_reminder_days (14"),
                      ('[jobs]\nschedules = { proposals = "every monday" }', "proposals")):
        original = bot.config_path.read_text(encoding="utf-8")
        _configure(bot, text)
        proc = bot.cli("gps", "list", "--format", "json", check=False)
        bot.config_path.write_text(original, encoding="utf-8")
        assert proc.returncode == 2, text
        assert key in proc.stderr and "Traceback" not in proc.stderr, (text, proc.stderr)
    assert json.loads(bot.cli("gps", "list", "--format", "json").stdout) == []
