"""Several referrals in one mail (rows of an attached spreadsheet, several PDF forms): one
entry each, with the checks of a single form, and ONE acknowledgement listing every item.

An item with a problem never blocks the others: it is registered incomplete, merged
into the patient's open entry, or set aside with its reason. The acknowledgement
names patients by their initials only; beyond :data:`LISTED` items it summarises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows import problems as problem_list
from mailbot.workflows.base import Outcome, Work, processed
from mailbot.workflows.intake import territory_refusal
from parsers.referral import ReferralForm
from store import entries
from store.alerts import raise_alert
from store.models import Entry, EntryStatus

log = logging.getLogger(__name__)
LISTED = 50
_CHUNK = 500  # patients looked up in the waitlist with one query


@dataclass
class Item:
    """One referral of the mail: where it is ("Ligne 4", a file name) and what became of it."""

    where: str
    form: ReferralForm | None
    rejected: str = ""
    outcome: str = ""
    ref: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    new: entries.NewEntry | None = None

    @property
    def initials(self) -> str:
        """``D. M.``: the patient's initials (name then first name), nothing more."""
        fields = self.form.fields if self.form else {}
        return " ".join(f"{str(fields[k])[0].upper()}." for k in ("nom", "prenom")
                        if fields.get(k))


def _identity(fields: dict[str, Any]) -> str | None:
    return fields.get("ins") or entries.identity_key(
        fields.get("nom"), fields.get("prenom"), fields.get("date_naissance"))


def _merge(work: Work, item: Item, fields: dict[str, Any], existing: Entry) -> None:
    """Merge into the patient's open entry."""
    assert item.form is not None
    entries.merge_fields(work.session, existing, fields, now=work.now, kind="merged",
                         inbound_id=work.row.id, actor=work.actor)
    if existing.status == EntryStatus.INCOMPLETE:
        existing.problems = problem_list.recompute(entries.entry_fields(existing),
                                                   existing.problems, item.form.problems)
        if not existing.problems:
            entries.set_status(work.session, existing, EntryStatus.WAITING, now=work.now,
                               reason="complété par une nouvelle fiche", actor=work.actor,
                               inbound_id=work.row.id)
    item.outcome, item.ref = "déjà inscrit(e) : informations ajoutées au dossier", existing.ref


def _fields(work: Work, item: Item) -> dict[str, Any]:
    fields: dict[str, Any] = dict(item.form.fields) if item.form else {}
    if fields and not fields.get("referent_nom") and work.sender_name:
        fields["referent_nom"] = work.sender_name
    return fields


def _plan(work: Work, item: Item, fields: dict[str, Any], existing: Entry | None,
          seen: dict[str, str]) -> None:
    """Decide one item: rejected, refused, double, merged, or a new entry to create."""
    if item.form is None:
        item.outcome = f"non enregistrée : {item.rejected}"
        return
    refusal = territory_refusal(work, fields.get("code_postal"))
    if refusal:
        item.outcome = f"non inscrit(e) : {refusal.rstrip('.')}"
        return
    who = _identity(fields)
    if who and who in seen:
        item.outcome = f"non enregistrée : même patient que {seen[who]}"
        return
    if who:
        seen[who] = item.where
    if existing is not None:
        _merge(work, item, fields, existing)
        return
    item.problems = [problem_list.problem_dict(p) for p in item.form.problems]
    status = EntryStatus.INCOMPLETE if item.problems else EntryStatus.WAITING
    item.outcome = "fiche incomplète" if item.problems else "inscrit(e)"
    item.new = entries.NewEntry(
        fields=fields, status=status, problems=item.problems, referrer_email=work.sender,
        referrer_name=work.sender_name, source_message_id=work.row.message_id,
        inbound_id=work.row.id, extra_events=[("batch", {"where": item.where})])


def register_items(work: Work, items: Sequence[Item], *, sources: Sequence[str],
                   notes: Sequence[str] = ()) -> Outcome:
    """Register every item and send the one acknowledgement listing them."""
    assert work.sender is not None  # unknown senders were quarantined before
    seen: dict[str, str] = {}
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        all_fields = [_fields(work, item) for item in chunk]
        found = entries.find_open_duplicates(work.session, all_fields)
        for item, fields, existing in zip(chunk, all_fields, found, strict=True):
            _plan(work, item, fields, existing, seen)
    news = [item.new for item in items if item.new is not None]
    created = entries.create_many(work.session, news, now=work.now, actor=work.actor,
                                  load=False)
    assert created == []
    for item in items:
        if item.new is not None:
            item.ref = item.new.ref
            if item.new.fields.get("urgent") is True:
                raise_alert(work.session, kind="urgent_referral", urgent=True, now=work.now,
                            entry_id=item.new.id, inbound_message_id=work.row.id,
                            reason="fiche signalée urgente par le référent")
    counts = {"total": len(items),
              "registered": sum(i.outcome == "inscrit(e)" for i in items),
              "incomplete": sum(i.outcome == "fiche incomplète" for i in items),
              "merged": sum(i.outcome.startswith("déjà") for i in items)}
    counts["set_aside"] = counts["total"] - counts["registered"] - counts["incomplete"] \
        - counts["merged"]
    shown = list(items) if len(items) <= LISTED else \
        [i for i in items if i.outcome != "inscrit(e)"][:LISTED]
    rows = [{"where": i.where, "initials": i.initials, "outcome": i.outcome, "ref": i.ref,
             "problems": problem_list.for_template(i.problems)} for i in shown]
    first = next((i.new.id for i in items if i.new is not None), None)
    enqueue_mail(work.app, work.session, kind="ack_batch", to=work.sender, template="ack_batch",
                 now=work.now, health_data=True, thread=work.thread, entry_id=first,
                 inbound_id=work.row.id,
                 context={"rows": rows, "hidden": len(items) - len(shown), "counts": counts,
                          "sources": list(sources), "notes": list(notes)})
    log.info("batch of %d referral(s): %d created, %d merged, %d set aside", counts["total"],
             len(news), counts["merged"], counts["set_aside"])
    return processed(f"lot de {counts['total']} fiche(s) : {len(news)} inscription(s)",
                     kind="referral_batch", entry_id=first)
