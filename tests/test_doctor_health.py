"""``mailbot doctor --json``: the checks and the health counters monitoring alerts on."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import update

from store import inbound, outbox
from store.models import OutboxMessage, OutboxState
from tests.helpers import Bot


def _doctor_json(bot: Bot) -> tuple[int, dict[str, object]]:
    proc = bot.cli("doctor", "--json", check=False)
    return proc.returncode, json.loads(proc.stdout)


def test_counters_of_a_quiet_bot_are_zero(bot: Bot) -> None:
    code, report = _doctor_json(bot)
    assert code == 0 and report["ok"] is True
    assert report["health"] == {
        "inbound_unprocessed": 0, "oldest_unprocessed_s": None, "outbox_pending": 0,
        "oldest_pending_s": None, "outbox_failed": 0, "outbox_failed_24h": 0,
        "outbox_refused": 0}
    names = [c["name"] for c in report["checks"]]  # type: ignore[index]
    assert "base de données" in names and "messages reçus en attente" in names


def test_stuck_mail_and_failed_delivery_are_counted_and_warned(bot: Bot) -> None:
    now = dt.datetime.now(dt.UTC)
    with bot.app.db.transaction() as session:
        inbound.store_raw(session, transport_key="k1", raw=b"Subject: x\r\n\r\nx\r\n",
                          message_id="<stuck@test>", sender="a@b.fr",
                          now=now - dt.timedelta(minutes=40))
        old = outbox.enqueue(session, message_id="<old@test>", kind="ack", sender="bot@test",
                             recipients=["x@y.fr"], raw=b"x", health_data=False,
                             now=now - dt.timedelta(hours=3))
        failed = outbox.enqueue(session, message_id="<failed@test>", kind="ack",
                                sender="bot@test", recipients=["z@y.fr"], raw=b"x",
                                health_data=False, now=now - dt.timedelta(hours=1))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == failed)
                        .values(state=OutboxState.FAILED))
    assert old
    code, report = _doctor_json(bot)
    health = report["health"]
    assert isinstance(health, dict)
    assert health["inbound_unprocessed"] == 1
    assert 40 * 60 - 5 <= health["oldest_unprocessed_s"] <= 40 * 60 + 300
    assert health["outbox_pending"] == 1 and health["oldest_pending_s"] >= 3 * 3600 - 5
    assert health["outbox_failed"] == 1 and health["outbox_failed_24h"] == 1
    warned = {c["name"] for c in report["checks"]  # type: ignore[union-attr]
              if not c["ok"] and c["warning"]}
    assert {"messages reçus en attente", "envois en attente", "envois en échec"} <= warned
    assert code == 0  # warnings do not fail the doctor
    text = bot.cli("doctor", check=False).stdout
    assert "[ATTENTION] messages reçus en attente : 1 à traiter, le plus ancien depuis 40 min" \
        in text


def test_json_of_an_uninitialised_database_has_no_counters(bot: Bot) -> None:
    bot.sections["database"]["url"] = "sqlite:///" + str(bot.root / "absent" / "none.db")
    from tests.helpers import render_config
    bot.config_path.write_text(render_config(bot.sections), encoding="utf-8")
    code, report = _doctor_json(bot)
    assert code != 0 and report["ok"] is False and report["health"] is None
