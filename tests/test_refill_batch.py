"""GPs' NON read in one batch: each GP's slot is offered again, as if the mails came one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select, update

from mailbot.matching.pool import Pool
from mailbot.matching.round import fill_slots, gp_slots
from store.models import Entry, EntryStatus
from store.models_matching import GP, Proposal, ProposalState
from tests.helpers import Bot
from tests.test_matching_support import T0, add_entry, add_gp, gp_email, reply, rpps


def _setup(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        for n in (1, 2):
            add_gp(session, n)
        for n in range(5):
            add_entry(session, n, received=T0 - dt.timedelta(days=45 - n),
                      birth=dt.date(1948, 3, 12))
    bot.cli("jobs", "run", "proposals", "--at", "2026-11-02T08:00")


def test_two_non_in_one_batch_refill_both_gps_in_mail_order(bot: Bot) -> None:
    _setup(bot)
    proposals = {mail["To"]: mail for mail in bot.sent()}
    assert sorted(proposals) == [gp_email(1), gp_email(2)]
    for n in (2, 1):  # GP2's NON comes first in the mailbox
        mail = proposals[gp_email(n)]
        bot.drop(reply(gp_email(n), "NON", subject=f"RE: {mail['Subject']}",
                       message_id=f"non-{n}@medecin.mssante.fr", in_reply_to=mail["Message-ID"]))
    bot.clock.frozen = T0 + dt.timedelta(hours=4)
    assert dict(bot.run_once().states) == {"processed": 2}
    with bot.app.db.sessions() as session:
        rows = session.execute(select(Proposal.state, Proposal.kind, Entry.nom, Proposal.gp_id)
                               .join(Entry, Entry.id == Proposal.entry_id)
                               .order_by(Proposal.id)).all()
        declined = [row for row in rows if row.state == ProposalState.DECLINED]
        new = [row for row in rows if row.kind == "after_decline"]
        statuses = dict(session.execute(select(Entry.nom, Entry.status)).all())
        gp_ids = {n: session.scalars(select(GP.id).where(GP.rpps == rpps(n))).one() for n in (1, 2)}
    assert len(declined) == 2 and len(new) == 2
    assert all(row.state == ProposalState.PENDING for row in new)
    # As one refill after the other: GP2 (first mail) cannot have PATIENT0, declined by GP1
    # after him; GP1 then takes PATIENT1, declined by GP2 before him.
    assert [(row.nom, row.gp_id) for row in new] == [("PATIENT2", gp_ids[2]),
                                                     ("PATIENT1", gp_ids[1])]
    assert statuses["PATIENT0"] == statuses["PATIENT3"] == statuses["PATIENT4"] \
        == EntryStatus.WAITING
    sent = [mail for mail in bot.sent() if "[CPTS-P-" in mail["Subject"]][2:]
    assert sorted(mail["To"] for mail in sent) == [gp_email(1), gp_email(2)]


def _one_gp_with_two_proposals(bot: Bot) -> list[object]:
    with bot.app.db.transaction() as session:
        add_gp(session, 1, max_open_proposals=2)
        for n in range(5):
            add_entry(session, n, received=T0 - dt.timedelta(days=45 - n),
                      birth=dt.date(1948, 3, 12))
    bot.cli("jobs", "run", "proposals", "--at", "2026-11-02T08:00")
    sent = bot.sent()
    assert len(sent) == 2
    return sent


def _refills(bot: Bot) -> list[str]:
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(Entry.nom).join(Proposal, Proposal.entry_id == Entry.id)
                                    .where(Proposal.kind == "after_decline")
                                    .order_by(Proposal.id)))


def test_slots_are_counted_at_the_non_not_at_the_end_of_the_batch(bot: Bot) -> None:
    """NON then OUI from one GP in one batch: one new proposal, as one mail after the other
    (counted at the end, his OUI would have freed a second slot)."""
    first, second = _one_gp_with_two_proposals(bot)
    for n, (mail, body) in enumerate([(first, "NON"), (second, "OUI")]):
        bot.drop(reply(gp_email(1), body, subject=f"RE: {mail['Subject']}",  # type: ignore[index]
                       message_id=f"a-{n}@medecin.mssante.fr",
                       in_reply_to=mail["Message-ID"]))  # type: ignore[index]
    bot.clock.frozen = T0 + dt.timedelta(hours=4)
    assert dict(bot.run_once().states) == {"processed": 2}
    assert _refills(bot) == ["PATIENT2"]


def test_two_non_from_one_gp_in_one_batch_get_one_new_proposal_each(bot: Bot) -> None:
    first, second = _one_gp_with_two_proposals(bot)
    for n, mail in enumerate([first, second]):
        bot.drop(reply(gp_email(1), "NON", subject=f"RE: {mail['Subject']}",  # type: ignore[index]
                       message_id=f"n-{n}@medecin.mssante.fr",
                       in_reply_to=mail["Message-ID"]))  # type: ignore[index]
    bot.clock.frozen = T0 + dt.timedelta(hours=4)
    assert dict(bot.run_once().states) == {"processed": 2}
    assert _refills(bot) == ["PATIENT2", "PATIENT3"]


def test_a_batch_of_answers_reads_its_tokens_and_proposals_once(bot: Bot) -> None:
    """Two OUI in one batch: one query for their tokens, one for their proposals."""
    _setup(bot)
    for n, mail in enumerate(bot.sent()):
        bot.drop(reply(mail["To"], "OUI", subject=f"RE: {mail['Subject']}",
                       message_id=f"oui-{n}@medecin.mssante.fr", in_reply_to=mail["Message-ID"]))
    reads: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT") and ("FROM token" in statement
                                               or "FROM proposal \nWHERE proposal.id" in statement):
            reads.append(statement)

    event.listen(bot.app.db.engine, "before_cursor_execute", spy)
    bot.clock.frozen = T0 + dt.timedelta(hours=4)
    assert dict(bot.run_once().states) == {"processed": 2}
    event.remove(bot.app.db.engine, "before_cursor_execute", spy)
    assert len([sql for sql in reads if "FROM token" in sql]) == 1
    assert len(reads) == 2, reads
    with bot.app.db.sessions() as session:
        states = list(session.scalars(select(Proposal.state)))
    assert states == [ProposalState.ACCEPTED, ProposalState.ACCEPTED]


@pytest.mark.parametrize("backend", ["postgres"])  # row locks: a PostgreSQL matter
def test_an_entry_proposed_by_another_process_is_not_proposed_again(bot: Bot) -> None:
    """A process whose session already holds an entry (read by its pool or its prefetch)
    must see, under the lock, that another process proposed it meanwhile."""
    with bot.app.db.transaction() as session:
        for n in (1, 2):
            add_gp(session, n)
        ident = add_entry(session, 1, received=T0 - dt.timedelta(days=40)).id
    with bot.app.db.transaction() as session:
        held = session.get(Entry, ident)
        assert held is not None and held.status == EntryStatus.WAITING
        gp = session.scalars(select(GP).where(GP.email == gp_email(2))).one()
        pool = Pool.load(session, bot.app.config.matching, T0, ["16000"])  # it is waiting
        with bot.app.db.transaction() as other:  # another daemon proposes it and commits
            other.execute(update(Entry).where(Entry.id == ident)
                          .values(status=EntryStatus.PROPOSED))
        fill = fill_slots(bot.app, session, gp, T0, gp_slots(bot.app, session, gp, T0),
                          kind="round", actor="system", inbound_id=None, pool=pool)
        assert fill.proposals == []
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Proposal)).all() == []
