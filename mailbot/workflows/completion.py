"""A referrer completes an incomplete entry by answering our acknowledgement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from mailbot.clock import local_date
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows import problems as problem_list
from mailbot.workflows.base import Outcome, Work, escalate, processed
from mailbot.workflows.intake import patient_label
from parsers.quoting import new_text
from parsers.referral import NotAForm, ReferralForm, parse_text_form
from store import entries
from store.entries import identity_key
from store.models import Entry, EntryStatus, Token


def merge_completion(session: Session, entry: Entry, form: ReferralForm, *, now: dt.datetime,
                     actor: str, inbound_id: int | None, reason: str) -> list[str]:
    """Merge completion lines into ``entry`` and recompute what is still missing.

    Shared by the referrer's reply and the coordinators' ``COMPLETER``: the
    values sent overwrite, problems are recomputed, and an incomplete entry
    with nothing left to complete moves to ``waiting`` (``reason`` in its
    history). Returns the keys that changed.
    """
    changed = entries.merge_fields(session, entry, form.fields, now=now, kind="completed",
                                   inbound_id=inbound_id, overwrite=True, actor=actor)
    entry.problems = problem_list.recompute(entries.entry_fields(entry), entry.problems,
                                            form.problems)
    if not entry.problems and entry.status == EntryStatus.INCOMPLETE:
        entries.set_status(session, entry, EntryStatus.WAITING, now=now, reason=reason,
                           actor=actor, inbound_id=inbound_id)
    return changed


def handle_completion(work: Work, token: Token) -> Outcome:
    """Merge the lines the referrer sent; move the entry to ``waiting`` once complete."""
    entry = work.session.get(Entry, token.entry_id) if token.entry_id else None
    if entry is None:
        return escalate("jeton de complément sans inscription", kind="reply_orphan")
    if entry.status != EntryStatus.INCOMPLETE:
        return escalate(f"complément reçu pour une inscription déjà {entry.status}",
                        kind="completion_late", entry_id=entry.id)
    text = new_text(work.body)
    form = parse_text_form(text, today=local_date(work.now), partial=True)
    if isinstance(form, NotAForm) or not form.seen:
        return escalate("réponse sans information reconnue", kind="completion_unreadable",
                        entry_id=entry.id)
    def _known(key: str) -> Any:
        return form.fields.get(key) or getattr(entry, key)

    new_key = identity_key(_known("nom"), _known("prenom"), _known("date_naissance"))
    if entry.identity_key and new_key and new_key != entry.identity_key:
        return escalate("le complément ne correspond pas à l'identité du patient",
                        kind="completion_conflict", entry_id=entry.id)

    merge_completion(work.session, entry, form, now=work.now, actor=work.actor,
                     inbound_id=work.row.id, reason="fiche complétée par le référent")
    patient = patient_label(entries.entry_fields(entry))
    if entry.problems:
        enqueue_mail(work.app, work.session, kind="ack_incomplete", to=token.recipient,
                     template="ack_incomplete", now=work.now, health_data=True,
                     thread=work.thread, token_kind="C", token_ttl_days=90, entry_id=entry.id,
                     inbound_id=work.row.id,
                     context={"entry": entry, "patient": patient,
                              "problems": problem_list.for_template(entry.problems)})
        return processed("complément partiel", kind="completion", entry_id=entry.id)
    token.used_at = work.now
    enqueue_mail(work.app, work.session, kind="ack_completed", to=token.recipient,
                 template="ack_completed", now=work.now, health_data=True, thread=work.thread,
                 entry_id=entry.id, inbound_id=work.row.id,
                 context={"entry": entry, "patient": patient})
    return processed("fiche complétée", kind="completion", entry_id=entry.id)
