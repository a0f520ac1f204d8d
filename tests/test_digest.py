"""The coordinators' digest and urgent alerts (real CLI for the jobs, both backends)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from mailbot.app import App
from mailbot.clock import PARIS
from mailbot.config import load_config, parse_config
from mailbot.errors import ConfigError
from mailbot.transports.maildir import ensure_maildir
from store.alerts import raise_alert
from store.models import Alert, Entry
from store.models_coordination import DigestRun, InboundNotice
from tests.helpers import Bot, base_sections, body_of
from tests.test_commands_mail import COORD, command_mail, registered
from tests.test_intake_e2e import COMPLETE, DAC, mail
from tests.test_matching_support import add_entry, add_gp

DAY = dt.timedelta(days=1)
NOV2 = dt.datetime(2026, 11, 2, 10, 0, tzinfo=PARIS)


def digest(bot: Bot, at: str) -> tuple[str, EmailMessage | None]:
    """Run the digest job through the CLI; return its summary and the digest mail, if one was sent."""
    before = {m["Message-ID"] for m in bot.sent()}
    out = bot.cli("jobs", "run", "digest", "--at", at).stdout
    new = [m for m in bot.sent() if m["Message-ID"] not in before]
    assert len(new) <= 1
    return out, (new[0] if new else None)


def html_of(msg: EmailMessage) -> str:
    """The HTML part of a mail we sent."""
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def alert(bot: Bot, kind: str, reason: str, *, entry_ref: str | None = None, urgent: bool = False,
          subject_ref: str | None = None, at: dt.datetime = NOV2) -> None:
    """Raise an alert as the other workflows do."""
    with bot.app.db.transaction() as session:
        entry_id = session.scalar(select(Entry.id).where(Entry.ref == entry_ref)) if entry_ref else None
        raise_alert(session, kind=kind, reason=reason, now=at, urgent=urgent, entry_id=entry_id,
                    subject_ref=subject_ref)


def test_digest_has_each_section_with_age_reason_command_and_the_originals(bot: Bot) -> None:
    bot.clock.frozen = NOV2
    waiting = registered(bot)["ref"]
    incomplete = registered(bot, "02-hospital-incomplete.eml")["ref"]
    bot.drop(mail("inconnu@gmail.com", "Bonjour, je cherche un médecin", message_id="u1@gmail.com"))
    bot.drop(mail(DAC, "Bonjour, avez-vous des nouvelles de ma patiente ?", message_id="q1@dac16"))
    bot.run_once()
    with bot.app.db.transaction() as session:
        add_gp(session, 7, accepting=False)
        add_gp(session, 8, capacity_per_month=0)
        old = add_entry(session, 1, received=NOV2 - 200 * DAY).ref
    alert(bot, "proposal_declined", "proposition déclinée par le Dr GP1", entry_ref=waiting)
    alert(bot, "followup_not_mt", "le médecin n'est pas devenu médecin traitant", entry_ref=old)
    alert(bot, "call_list", "à appeler : pas d'adresse e-mail", entry_ref=old)
    alert(bot, "delivery_failed", "550 boîte inconnue", entry_ref=waiting)
    alert(bot, "brand_new_kind", "une situation que personne n'a encore classée")

    out, sent = digest(bot, "2026-11-12T08:00")
    assert "synthèse envoyée à 1 coordinateur(s)" in out
    assert sent is not None and sent["To"] == COORD
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["Subject"].startswith("Synthèse du 12/11/2026 : 11 point(s) à voir, dont 11 nouveau(x)")
    body = body_of(sent)
    for title in ("Messages et réponses à relire (1)", "Messages d'expéditeurs inconnus",
                  "Fiches incomplètes depuis plus de 7 jours (1)", "Propositions déclinées ou expirées",
                  "Médecins qui ne sont pas devenus médecin traitant", "Patients à appeler",
                  "Envois en échec", "Médecins en pause ou sans capacité",
                  "En attente d'un médecin depuis plus de 180 jours (1)", "Autres points (1)"):
        assert title in body, title
    assert (f"[nouveau] {incomplete} — depuis 10 jours — il manque : Date de naissance, "
            "Code postal, Commune, Consentement du patient") in body
    assert f"→ COMPLETER {incomplete}" in body
    assert f"→ PROPOSER {waiting} A <RPPS>" in body
    assert f"→ corrigez l'adresse si besoin (COMPLETER {waiting}), puis RENVOYER {waiting}" in body
    assert f"[nouveau] {old} — depuis 210 jours — toujours sans médecin" in body
    assert f"→ PRIORITAIRE {old}" in body
    assert "Dr Paul GP7 (RPPS" in body and "→ REPRISE" in body
    assert "Dr Paul GP8 (RPPS" in body and "capacité mensuelle à 0" in body
    assert "→ le médecin répond CAPACITE n, ou : mailbot gps set" in body
    assert "de inconnu@gmail.com" in body and "[senders] partners" in body
    assert "une situation que personne n'a encore classée" in body
    # The originals are attached (text and HTML parts first).
    attached = {p.get_filename(): p.get_content_type() for p in sent.iter_attachments()}
    assert len(attached) == 2 and all(str(name).startswith("message-") for name in attached)
    assert "message/rfc822" in attached.values()
    html = html_of(sent)
    assert "<table" in html and f"COMPLETER {incomplete}" in html
    with bot.app.db.sessions() as session:
        assert all(a.notified_at is not None for a in session.scalars(select(Alert)))
        assert len(session.scalars(select(InboundNotice)).all()) == 2
        [run] = session.scalars(select(DigestRun)).all()
        assert (run.kind, run.items, run.new_items, run.recipients) == ("digest", 11, 11, [COORD])


def test_nothing_to_say_sends_nothing_and_the_jobs_are_scheduled(bot: Bot) -> None:
    registered(bot)
    out, sent = digest(bot, "2026-12-01T08:00")
    assert "rien à signaler" in out and sent is None
    listing = bot.cli("jobs", "list").stdout
    assert "digest" in listing and "0 8 * * *" in listing
    assert "urgent" in listing and "* * * * *" in listing


def test_open_points_stay_until_settled_and_set_aside_mails_are_recalled_then_dropped(bot: Bot) -> None:
    bot.clock.frozen = NOV2
    ref = registered(bot)["ref"]
    bot.drop(mail("inconnu@gmail.com", "Bonjour", message_id="u1@gmail.com"))
    bot.run_once()
    alert(bot, "proposal_expired", "proposition sans réponse", entry_ref=ref)

    _, first = digest(bot, "2026-11-03T08:00")
    assert first is not None and "dont 2 nouveau(x)" in first["Subject"]
    _, second = digest(bot, "2026-11-04T08:00")
    assert second is not None
    body = body_of(second)
    assert "[nouveau]" not in body and "déjà signalé le 03/11/2026" in body
    assert f"{ref} — depuis 2 jours — proposition sans réponse" in body
    assert not list(second.iter_attachments())  # originals are attached once

    bot.clock.frozen = dt.datetime(2026, 11, 5, 9, tzinfo=PARIS)
    command_mail(bot, f"CLOTURER {ref} retrait")
    _, third = digest(bot, "2026-11-06T08:00")
    assert third is not None and ref not in body_of(third)  # settled by the command
    assert "message n°" in body_of(third)  # still recalled (7 days)
    out, fourth = digest(bot, "2026-11-11T08:00")
    assert fourth is None and "rien à signaler" in out


def test_a_section_lists_at_most_n_points_and_keeps_the_rest_new(bot: Bot) -> None:
    bot.sections["coordination"] = {"max_items_per_section": 2}
    bot.config_path.write_text(bot.config_path.read_text(encoding="utf-8")
                               + "\n[coordination]\nmax_items_per_section = 2\n", encoding="utf-8")
    for n in range(3):
        alert(bot, "proposal_declined", f"déclinée {n}", subject_ref=f"GP{n}",
              at=NOV2 + n * dt.timedelta(hours=1))
    _, first = digest(bot, "2026-11-03T08:00")
    assert first is not None
    body = body_of(first)
    assert "Propositions déclinées ou expirées (3)" in body
    assert "déclinée 0" in body and "déclinée 1" in body and "déclinée 2" not in body
    assert "… et 1 autre(s)" in body
    _, second = digest(bot, "2026-11-04T08:00")
    assert second is not None and "[nouveau] GP2" in body_of(second)


def test_an_urgent_referral_is_sent_at_once_and_only_once(bot: Bot) -> None:
    bot.clock.frozen = NOV2
    bot.drop(mail(DAC, COMPLETE + "Urgent : oui\n", message_id="urgent-1@dac16"))
    report = bot.run_once()
    assert report.delivery == {"sent": 2}
    [ack, urgent] = bot.sent()
    [ref] = [r["ref"] for r in bot.export()]
    assert ack["To"] == DAC
    assert urgent["To"] == COORD and urgent["Subject"].startswith("URGENT")
    assert ref in urgent["Subject"]
    assert f"PRIORITAIRE {ref}" in body_of(urgent)
    [original] = list(urgent.iter_attachments())
    assert str(original.get_filename()).endswith(".eml")
    bot.run_once()
    assert "aucune alerte urgente" in bot.cli("jobs", "run", "urgent").stdout
    assert len(bot.sent()) == 2
    # Still in the digest (not new) until a coordinator settles it.
    _, sent = digest(bot, "2026-11-03T08:00")
    assert sent is not None
    assert f"{ref} — depuis 1 jour — fiche signalée urgente" in body_of(sent)
    assert "[nouveau]" not in body_of(sent)
    assert "signalement urgent réglé" in body_of(command_mail(bot, f"PRIORITAIRE {ref}"))
    out, _ = digest(bot, "2026-11-04T08:00")
    assert "rien à signaler" in out


def _with_routes(bot: Bot, routes: str) -> None:
    """Append ``[[outbound.routes]]`` to the configuration and reload it."""
    bot.config_path.write_text(bot.config_path.read_text(encoding="utf-8") + routes, encoding="utf-8")
    ensure_maildir(bot.root / "var" / "ordinary")
    bot.app.db.dispose()
    bot.app = App.from_config(load_config(bot.config_path), clock=bot.clock)


def test_a_refused_health_data_mail_raises_an_urgent_mail_in_the_same_pass(bot: Bot) -> None:
    _with_routes(bot, '\n[[outbound.routes]]\ntransport = "maildir"\npath = "var/ordinary"\n'
                      'domains = ["dac16.mssante.fr"]\nsecure = false\n')
    bot.drop_example("01-dac-text-form.eml")
    report = bot.run_once()
    assert report.delivery == {"refused": 1, "sent": 1}
    [urgent] = bot.sent()
    assert urgent["To"] == COORD and urgent["Subject"].startswith("URGENT")
    assert "RENVOYER E-" in body_of(urgent) and "hors MSSanté" in body_of(urgent)


def test_coordinators_on_a_non_secure_route_get_nothing_and_nothing_loops(bot: Bot) -> None:
    _with_routes(bot, '\n[[outbound.routes]]\ntransport = "maildir"\npath = "var/ordinary"\n'
                      'domains = ["cpts-exemple.mssante.fr"]\nsecure = false\n')
    bot.drop(mail(DAC, COMPLETE + "Urgent : oui\n", message_id="urgent-2@dac16"))
    bot.run_once()
    bot.run_once()
    out, sent = digest(bot, "2026-12-01T08:00")
    assert "aucun coordinateur joignable par MSSanté" in out and sent is None
    assert [m["To"] for m in bot.sent()] == [DAC]  # the acknowledgement only
    assert not list((bot.root / "var" / "ordinary" / "new").iterdir())
    # A command answer refused on that route is reported once, never by a mail that would loop.
    bot.drop(mail(COORD, "AIDE", message_id="aide@cpts"))
    bot.run_once()
    bot.run_once()
    with bot.app.db.sessions() as session:
        refused = session.scalars(select(Alert).where(Alert.kind == "delivery_refused")).all()
    assert len(refused) == 1 and refused[0].notified_at is not None


def test_recipients_must_be_full_addresses() -> None:
    sections = base_sections({"url": "sqlite:///x.db"})
    with pytest.raises(ConfigError, match=r"coordination\.recipients"):
        parse_config({**sections, "coordination": {"recipients": ["cpts-exemple.mssante.fr"]}})
    config = parse_config({**sections, "coordination": {"recipients": ["Chef@CPTS.mssante.fr"]}})
    assert config.coordination.recipients == ["chef@cpts.mssante.fr"]
