"""Intake: a partner's referral form becomes a waitlist entry and an acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mailbot.clock import local_date
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows import problems as problem_list
from mailbot.workflows.base import Outcome, Work, escalate, processed
from parsers.people import person_name
from parsers.referral import FRENCH_LABELS, NotAForm, ReferralForm, parse_text_form
from parsers.referral.combine import Conflict
from store import entries
from store.alerts import raise_alert
from store.models import EntryStatus

log = logging.getLogger(__name__)


def patient_label(fields: dict[str, Any]) -> str:
    """How acknowledgements name the patient: only what the referrer wrote (``DURAND Marie``)."""
    return person_name(fields.get("nom"), fields.get("prenom"))


def territory_refusal(work: Work, code_postal: str | None) -> str | None:
    """The refusal reason when the postal code is outside the territory served, else ``None``."""
    intake = work.app.config.intake
    if not code_postal or not (intake.postal_codes or intake.postal_code_prefixes):
        return None
    if code_postal in intake.postal_codes:
        return None
    if any(code_postal.startswith(prefix) for prefix in intake.postal_code_prefixes):
        return None
    return (f"le code postal {code_postal} ne fait pas partie du territoire couvert par "
            f"la {work.app.config.identity.name}.")


def handle_referral(work: Work) -> Outcome:
    """Read a partner's mail as a referral form and register it."""
    result = parse_text_form(work.body, today=local_date(work.now))
    if isinstance(result, NotAForm):
        return escalate(f"pas une fiche de saisine : {result.reason}", kind="not_a_form")
    return register_form(work, result)


def conflict_dicts(conflicts: Sequence[Conflict]) -> list[dict[str, str]]:
    """Conflicts between attachment and body, for the acknowledgement and the entry's history."""
    return [{"key": c.key, "label": FRENCH_LABELS.get(c.key, c.key), "kept": c.kept,
             "dropped": c.dropped} for c in conflicts]


def register_form(work: Work, form: ReferralForm, *, conflicts: Sequence[Conflict] = (),
                  notes: Sequence[str] = ()) -> Outcome:
    """Create (or merge into) an entry from one form and acknowledge it to the referrer.

    ``conflicts`` (a form attached and another typed in the body, disagreeing) are
    listed in the acknowledgement and the entry's history; ``notes`` (attachments
    that could not be read) in the acknowledgement.
    """
    fields: dict[str, Any] = dict(form.fields)
    said = {"conflicts": conflict_dicts(conflicts), "notes": list(notes)}
    if not fields.get("referent_nom") and work.sender_name:
        fields["referent_nom"] = work.sender_name
    patient = patient_label(fields)
    referrer = work.sender
    assert referrer is not None  # unknown senders were quarantined before

    refusal = territory_refusal(work, fields.get("code_postal"))
    if refusal:
        enqueue_mail(work.app, work.session, kind="ack_refused", to=referrer,
                     template="ack_refused", now=work.now, health_data=True, thread=work.thread,
                     inbound_id=work.row.id,
                     context={**said, "patient": patient, "reason": refusal,
                              "sexe": fields.get("sexe"),
                              "advice": "Le patient peut s'adresser à la CPTS de son lieu de "
                                        "résidence ou à sa caisse d'assurance maladie."})
        return processed("hors territoire", kind="referral_refused")

    existing = entries.find_open_duplicate(work.session, fields)
    if existing is not None:
        changed = entries.merge_fields(work.session, existing, fields, now=work.now, kind="merged",
                                       inbound_id=work.row.id, actor=work.actor)
        if conflicts:
            entries.add_event(work.session, existing, now=work.now, kind="conflicts",
                              detail={"conflicts": said["conflicts"]}, inbound_id=work.row.id)
        if existing.status == EntryStatus.INCOMPLETE:
            existing.problems = problem_list.recompute(entries.entry_fields(existing),
                                                       existing.problems, form.problems)
            if not existing.problems:
                entries.set_status(work.session, existing, EntryStatus.WAITING, now=work.now,
                                   reason="complété par une nouvelle fiche", actor=work.actor,
                                   inbound_id=work.row.id)
        enqueue_mail(work.app, work.session, kind="ack_duplicate", to=referrer,
                     template="ack_duplicate", now=work.now, health_data=True, thread=work.thread,
                     entry_id=existing.id, inbound_id=work.row.id,
                     context={**said, "entry": existing, "patient": patient,
                              "changed": bool(changed)})
        return processed("patient déjà inscrit", kind="referral_duplicate", entry_id=existing.id)

    stored_problems = [problem_list.problem_dict(p) for p in form.problems]
    urgent = fields.get("urgent") is True
    status = EntryStatus.INCOMPLETE if stored_problems else EntryStatus.WAITING
    new = entries.NewEntry(
        fields=fields, status=status, problems=stored_problems, referrer_email=referrer,
        referrer_name=work.sender_name, source_message_id=work.row.message_id,
        inbound_id=work.row.id,
        extra_events=[("conflicts", {"conflicts": said["conflicts"]})] if conflicts else [])
    entry = entries.create_many(work.session, [new], now=work.now, actor=work.actor)[0]
    if urgent:
        raise_alert(work.session, kind="urgent_referral", urgent=True, now=work.now,
                    entry_id=entry.id, inbound_message_id=work.row.id,
                    reason="fiche signalée urgente par le référent")
    if status is EntryStatus.INCOMPLETE:
        enqueue_mail(work.app, work.session, kind="ack_incomplete", to=referrer,
                     template="ack_incomplete", now=work.now, health_data=True, thread=work.thread,
                     token_kind="C", token_ttl_days=90, entry_id=entry.id, inbound_id=work.row.id,
                     context={**said, "entry": entry, "patient": patient,
                              "problems": problem_list.for_template(stored_problems)})
        log.info("entry %s created incomplete (%d problem(s))", entry.ref, len(stored_problems))
        return processed("fiche incomplète", kind="referral", entry_id=entry.id)
    enqueue_mail(work.app, work.session, kind="ack_registered", to=referrer,
                 template="ack_registered", now=work.now, health_data=True, thread=work.thread,
                 entry_id=entry.id, inbound_id=work.row.id,
                 context={**said, "entry": entry, "patient": patient})
    log.info("entry %s created waiting", entry.ref)
    return processed("inscrit", kind="referral", entry_id=entry.id)
