"""What coordinators do to entries: status, close, reopen, prioritise, complete.

``CLOTURER E-7QK2M9 décédé`` by mail and ``mailbot entries close E-7QK2M9
--reason décédé`` call the same function here, so their behaviour cannot
drift. Each function checks everything before it writes (a refused operation
leaves nothing behind), writes the entry's history and the audit trail with
its author (``coordinator:<address>`` or ``cli:<user>``), and returns one
French sentence for the coordinator. Refusals raise
:class:`~mailbot.errors.UsageError` (wrong state or argument) or
:class:`~mailbot.errors.NotFoundError` (unknown reference), whose message says
what to do instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select

from mailbot.clock import fr_date, local_date
from mailbot.errors import UsageError
from mailbot.operations.context import OpContext, days_since, resolve_alerts
from mailbot.operations.labels import (
    ACCEPTED_REASONS,
    CLOSE_REASONS,
    MAIL_KINDS,
    MAIL_STATES,
    PROBLEM_LABELS,
    REASON_PREFIXES,
    STATUS_LABELS,
)
from mailbot.operations.mails import last_mail
from mailbot.workflows import problems as problem_list
from mailbot.workflows.completion import merge_completion
from parsers.people import is_woman, person_name, phone_display
from parsers.referral import FRENCH_LABELS, NotAForm, parse_text_form
from parsers.referral.labels import normalise
from store import audit, calls, entries
from store.models import OPEN_STATUSES, Alert, Entry, EntryStatus
from store.models_recontact import CallOutcome


def entry_status(ctx: OpContext, entry: Entry) -> str:
    """A few lines on an entry: state, since when, patient, what is missing, last mail, alerts."""
    status = STATUS_LABELS.get(entry.status, entry.status)
    days = days_since(ctx, entry.received_at)
    head = (f"{entry.ref} : {status} — inscrite le {fr_date(entry.received_at)} "
            f"({days} jour{'s' if days > 1 else ''})")
    if entry.priority:
        head += ", prioritaire"
    lines = [head]
    identity = person_name(entry.nom_usage or entry.nom, entry.prenom)
    if entry.date_naissance:
        born = "née" if is_woman(entry.sexe) else "né" if entry.sexe else "né(e)"
        identity += f", {born} le {fr_date(entry.date_naissance)}"
    place = " ".join(x for x in (entry.code_postal, entry.commune) if x)
    lines.append(("Patiente : " if is_woman(entry.sexe) else "Patient : ") + ", ".join(x for x in (identity, place) if x))
    contact = ", ".join(x for x in (phone_display(entry.telephone), entry.email) if x)
    if contact:
        lines.append(f"Contact : {contact}")
    if entry.referrer_email:
        referrer = f"{entry.referrer_name} <{entry.referrer_email}>" if entry.referrer_name else entry.referrer_email
        lines.append(f"Adressé par : {referrer}")
    if entry.status in (EntryStatus.CLOSED, EntryStatus.RESOLVED) and entry.resolved_at:
        why = CLOSE_REASONS.get(entry.closed_reason or "", entry.closed_reason or entry.resolution or "")
        lines.append(f"Sortie le {fr_date(entry.resolved_at)}" + (f" : {why}" if why else ""))
    if entry.problems:
        labels = dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"]) + (
            f" ({PROBLEM_LABELS[p['code']]})" if p.get("code") in PROBLEM_LABELS else "")
            for p in entry.problems)
        lines.append("À compléter : " + ", ".join(labels))
    last = last_mail(ctx.session, entry)
    if last is not None:
        lines.append(f"Dernier message : {MAIL_KINDS.get(last.kind, last.kind)} du "
                     f"{fr_date(last.created_at)} à {', '.join(last.recipients)} ({MAIL_STATES.get(last.state, last.state)})")
    open_alerts = list(ctx.session.scalars(
        select(Alert.reason).where(Alert.entry_id == entry.id, Alert.resolved_at.is_(None))))
    if open_alerts:
        lines.append(f"Alertes ouvertes : {len(open_alerts)} ({'; '.join(open_alerts[:3])})")
    return "\n".join(lines)


def parse_close_reason(text: str) -> tuple[str, str]:
    """``"déménagé à Lyon"`` → (``"moved_away"``, ``"à Lyon"``); UsageError when not recognised."""
    words = text.strip().split(maxsplit=1)
    if words:
        first = normalise(words[0])
        for prefix, code in REASON_PREFIXES:
            if first.startswith(prefix):
                return code, (words[1].strip() if len(words) > 1 else "")
    shown = f" « {text.strip()[:40]} »" if text.strip() else ""
    raise UsageError(f"motif de clôture{shown} non reconnu : écrivez {ACCEPTED_REASONS}")


def close_entry(ctx: OpContext, entry: Entry, reason_text: str) -> str:
    """Close an open entry with one of :data:`CLOSE_REASONS`, resolving its open alerts."""
    code, comment = parse_close_reason(reason_text)
    if entry.status not in OPEN_STATUSES:
        raise UsageError(f"{entry.ref} est déjà {STATUS_LABELS[entry.status]} : rien à clôturer")
    _withdraw_proposal(ctx, entry)
    entries.set_status(ctx.session, entry, EntryStatus.CLOSED, now=ctx.now, reason=code,
                       actor=ctx.actor, inbound_id=ctx.inbound_id)
    if comment:
        entries.add_event(ctx.session, entry, now=ctx.now, kind="comment",
                          detail={"by": ctx.actor, "text": comment[:500]}, inbound_id=ctx.inbound_id)
    _close_call_item(ctx, entry)
    resolve_alerts(ctx, entry_id=entry.id)
    return f"{entry.ref} clôturée ({CLOSE_REASONS[code]})."


def _withdraw_proposal(ctx: OpContext, entry: Entry) -> None:
    """Cancel a proposal still waiting for a GP's answer, and tell him (issue 5)."""
    if entry.status == EntryStatus.PROPOSED:
        from mailbot.workflows.proposals import withdraw  # matching: only when needed

        withdraw(ctx.app, ctx.session, entry, ctx.now, ctx.actor,
                 reason="inscription clôturée par la coordination")


def _close_call_item(ctx: OpContext, entry: Entry) -> None:
    """Take the entry off the call list (issue 6), when it is on it."""
    calls.close_for_entry(ctx.session, entry.id, CallOutcome.ENTRY_LEFT, now=ctx.now, by=ctx.actor)


def reopen_entry(ctx: OpContext, entry: Entry) -> str:
    """Put a closed or resolved entry back on the list at its original rank (registration date)."""
    if entry.status in OPEN_STATUSES:
        raise UsageError(f"{entry.ref} est déjà ouverte ({STATUS_LABELS[entry.status]}) : "
                         "rien à rouvrir")
    other = entries.find_open_duplicate(ctx.session, entries.entry_fields(entry))
    if other is not None and other.id != entry.id:
        raise UsageError(f"le même patient a déjà une inscription ouverte, {other.ref} : "
                         f"utilisez-la, ou clôturez-la d'abord (CLOTURER {other.ref} doublon)")
    target = EntryStatus.INCOMPLETE if entry.problems else EntryStatus.WAITING
    entries.set_status(ctx.session, entry, target, now=ctx.now, reason="rouverte par la coordination",
                       actor=ctx.actor, inbound_id=ctx.inbound_id)
    entry.resolved_at = None
    entry.resolution = None
    entry.closed_reason = None
    where = ("en attente, à son rang d'origine" if target is EntryStatus.WAITING
             else "incomplète (il manque encore des informations)")
    return f"{entry.ref} rouverte : {where} (inscrite le {fr_date(entry.received_at)})."


def prioritize_entry(ctx: OpContext, entry: Entry) -> str:
    """Mark an open entry as a priority; an urgent-referral alert about it is then settled."""
    if entry.status not in OPEN_STATUSES:
        raise UsageError(f"{entry.ref} est {STATUS_LABELS[entry.status]} : rouvrez-la d'abord "
                         f"(ROUVRIR {entry.ref})")
    resolved = resolve_alerts(ctx, entry_id=entry.id, kinds=("urgent_referral",))
    if entry.priority:
        return f"{entry.ref} était déjà prioritaire : rien à changer."
    entry.priority = True
    entry.updated_at = ctx.now
    entries.add_event(ctx.session, entry, now=ctx.now, kind="priority",
                      detail={"priority": True, "by": ctx.actor}, inbound_id=ctx.inbound_id)
    audit.record(ctx.session, actor=ctx.actor, action="entry.priority", object_type="entry",
                 object_id=entry.ref, before={"priority": False}, after={"priority": True},
                 inbound_message_id=ctx.inbound_id, at=ctx.now)
    extra = " (signalement urgent réglé)" if resolved else ""
    return f"{entry.ref} est maintenant prioritaire{extra}."


def complete_entry(ctx: OpContext, entry: Entry, text: str) -> str:
    """Merge form lines (``Commune : Angoulême``) into an open entry, like a referrer's completion.

    Invalid values refuse the whole operation (nothing is changed); an
    incomplete entry with nothing left to complete moves to ``waiting``.
    """
    if entry.status not in OPEN_STATUSES:
        raise UsageError(f"{entry.ref} est {STATUS_LABELS[entry.status]} : rouvrez-la d'abord "
                         f"(ROUVRIR {entry.ref})")
    form = parse_text_form(text, today=local_date(ctx.now), partial=True)
    if isinstance(form, NotAForm) or (not form.fields and not form.problems):
        raise UsageError("aucune rubrique de la fiche reconnue : écrivez une rubrique par ligne, "
                         "ex. « Commune : Angoulême »")
    invalid = [p for p in form.problems if p.code != "missing"]
    if invalid:
        raise UsageError("rien n'a été modifié : " + "; ".join(
            f"{p.label} : {p.message}" + (f" (ex. {p.example})" if p.example else "") for p in invalid))
    merged = {**entries.entry_fields(entry), **form.fields}
    other = entries.find_open_duplicate(ctx.session, merged)
    if other is not None and other.id != entry.id:
        raise UsageError(f"rien n'a été modifié : ces informations désignent le patient d'une autre "
                         f"inscription ouverte, {other.ref}")
    ignored = _ignored_lines(text, form.fields, local_date(ctx.now))
    before = entry.status
    changed = merge_completion(ctx.session, entry, form, now=ctx.now, actor=ctx.actor,
                               inbound_id=ctx.inbound_id, reason="fiche complétée par la coordination")
    labels = ", ".join(FRENCH_LABELS.get(k, k) for k in changed) or "aucune (valeurs identiques)"
    text_out = f"{entry.ref} : rubrique(s) mise(s) à jour : {labels}."
    if ignored:
        text_out += " Ligne(s) non reconnue(s), ignorée(s) : " + ", ".join(f"« {x[:60]} »" for x in ignored) + "."
    if entry.problems:
        missing = ", ".join(p["label"] for p in problem_list.for_template(entry.problems))
        return f"{text_out} Il manque encore : {missing}."
    if before != entry.status:
        return f"{text_out} La fiche est complète : inscription en attente d'un médecin."
    return text_out


def _ignored_lines(text: str, fields: Mapping[str, object], today: dt.date) -> list[str]:
    """Lines that name no rubric and whose removal changes nothing: they were not understood."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ignored = []
    for index, line in enumerate(lines):
        if not isinstance(parse_text_form(line, today=today, partial=True), NotAForm):
            continue
        without = parse_text_form("\n".join(lines[:index] + lines[index + 1:]), today=today,
                                  partial=True)
        if isinstance(without, NotAForm) or without.fields == fields:
            ignored.append(line)
    return ignored
