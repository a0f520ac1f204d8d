"""What coordinators do to entries and GPs, shared by the commands by mail and the CLI.

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import fr_date, local_date
from mailbot.compose import new_message_id
from mailbot.errors import NotFoundError, UsageError
from mailbot.workflows import problems as problem_list
from mailbot.workflows.completion import merge_completion
from parsers.referral import FRENCH_LABELS, NotAForm, parse_text_form
from parsers.referral.labels import normalise
from store import audit, calls, entries, gps, outbox
from store.models import OPEN_STATUSES, Alert, Entry, EntryStatus, OutboxMessage
from store.models_matching import GP
from store.models_recontact import CallOutcome
from store.refs import ALPHABET, normalise_ref

STATUS_LABELS: dict[str, str] = {
    EntryStatus.RECEIVED: "reçue",
    EntryStatus.INCOMPLETE: "incomplète",
    EntryStatus.WAITING: "en attente d'un médecin",
    EntryStatus.PROPOSED: "proposée à un médecin",
    EntryStatus.MATCHED: "acceptée par un médecin (en attente de sa confirmation)",
    EntryStatus.RESOLVED: "résolue",
    EntryStatus.CLOSED: "clôturée",
}

# Close reasons: code stored in ``entry.closed_reason`` → French label.
CLOSE_REASONS: dict[str, str] = {
    "withdrawn": "retrait de la demande",
    "moved_away": "déménagement",
    "deceased": "décès",
    "duplicate": "doublon",
    "unreachable": "patient injoignable",
}
# The first word of the motif, folded (no accents, lower case), by prefix (codes included).
_REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    ("retrait", "withdrawn"), ("retir", "withdrawn"), ("withdr", "withdrawn"),
    ("abandon", "withdrawn"), ("desist", "withdrawn"),
    ("demenag", "moved_away"), ("moved", "moved_away"),
    ("deced", "deceased"), ("deces", "deceased"), ("decea", "deceased"),
    ("doublon", "duplicate"), ("duplicat", "duplicate"),
    ("injoign", "unreachable"), ("unreach", "unreachable"),
)
ACCEPTED_REASONS = "retrait, déménagé, décédé, doublon ou injoignable"
# Alerts a new proposal settles: the entry is with a GP again.
PROPOSAL_ALERT_KINDS = ("proposal_declined", "proposal_expired", "followup_not_mt",
                        "followup_no_answer", "urgent_referral")

MAIL_KINDS: dict[str, str] = {
    "ack_registered": "accusé d'inscription",
    "ack_incomplete": "demande de compléments",
    "ack_completed": "confirmation de fiche complète",
    "ack_duplicate": "réponse « patient déjà inscrit »",
    "ack_refused": "refus d'inscription",
}

MAIL_STATES: dict[str, str] = {
    "pending": "en attente d'envoi", "sent": "envoyé", "failed": "en échec",
    "refused": "refusé : voie non sécurisée",
}

_REF = re.compile(rf"E-[{ALPHABET}]{{6}}")


@dataclass(frozen=True)
class OpContext:
    """Who acts, when, and in which transaction (and, by mail, from which inbound mail)."""

    app: App
    session: Session
    actor: str
    now: dt.datetime
    inbound_id: int | None = None


def parse_ref(text: str) -> str:
    """An entry reference as typed (``e-7qk2m9``, ``7QK2M9``) → ``E-7QK2M9``; UsageError if unreadable."""
    ref = normalise_ref(text.strip().strip(".,;:()«»\"'"))
    if not _REF.fullmatch(ref):
        raise UsageError(f"référence illisible « {text.strip()[:30]} » : attendu E- suivi de "
                         "6 caractères, ex. E-7QK2M9")
    return ref


def find_entry(ctx: OpContext, text: str) -> Entry:
    """The entry named by ``text``; NotFoundError when there is none."""
    ref = parse_ref(text)
    entry = entries.get_by_ref(ctx.session, ref)
    if entry is None:
        raise NotFoundError(f"aucune inscription {ref} : vérifiez la référence")
    return entry


def _days(ctx: OpContext, since: dt.datetime) -> int:
    return max(0, (local_date(ctx.now) - local_date(since)).days)


def resolve_alerts(ctx: OpContext, *, entry_id: int | None = None, subject_ref: str | None = None,
                   kinds: Iterable[str] | None = None, prefix: str | None = None) -> int:
    """Mark the matching open alerts resolved (the coordinator acted); return how many."""
    query = select(Alert).where(Alert.resolved_at.is_(None))
    if entry_id is not None:
        query = query.where(Alert.entry_id == entry_id)
    if subject_ref is not None:
        query = query.where(Alert.subject_ref == subject_ref)
    if kinds is not None:
        query = query.where(Alert.kind.in_(list(kinds)))
    if prefix is not None:
        query = query.where(Alert.kind.startswith(prefix))
    alerts = list(ctx.session.scalars(query))
    for alert in alerts:
        alert.resolved_at = ctx.now
        audit.record(ctx.session, actor=ctx.actor, action="alert.resolve", object_type="alert",
                     object_id=alert.id, after={"kind": alert.kind},
                     inbound_message_id=ctx.inbound_id, at=ctx.now)
    return len(alerts)


# ---------------------------------------------------------------- entries

def entry_status(ctx: OpContext, entry: Entry) -> str:
    """A few lines on an entry: state, since when, patient, what is missing, last mail, alerts."""
    status = STATUS_LABELS.get(entry.status, entry.status)
    head = (f"{entry.ref} : {status} — inscrite le {fr_date(entry.received_at)} "
            f"({_days(ctx, entry.received_at)} jours)")
    if entry.priority:
        head += ", prioritaire"
    lines = [head]
    identity = " ".join(x for x in (entry.nom_usage or entry.nom, entry.prenom) if x)
    if entry.date_naissance:
        identity += f", né(e) le {fr_date(entry.date_naissance)}"
    place = " ".join(x for x in (entry.code_postal, entry.commune) if x)
    lines.append("Patient : " + ", ".join(x for x in (identity, place) if x))
    contact = ", ".join(x for x in (entry.telephone, entry.email) if x)
    if contact:
        lines.append(f"Contact : {contact}")
    if entry.referrer_email:
        referrer = f"{entry.referrer_name} <{entry.referrer_email}>" if entry.referrer_name else entry.referrer_email
        lines.append(f"Adressé par : {referrer}")
    if entry.status in (EntryStatus.CLOSED, EntryStatus.RESOLVED) and entry.resolved_at:
        why = CLOSE_REASONS.get(entry.closed_reason or "", entry.closed_reason or entry.resolution or "")
        lines.append(f"Sortie le {fr_date(entry.resolved_at)}" + (f" : {why}" if why else ""))
    if entry.problems:
        labels = dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"]) for p in entry.problems)
        lines.append("À compléter : " + ", ".join(labels))
    last = _last_mail(ctx.session, entry)
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
        for prefix, code in _REASON_PREFIXES:
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


def _last_mail(session: Session, entry: Entry) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.entry_id == entry.id)
                           .order_by(OutboxMessage.id.desc()).limit(1)).first()


def _with_headers(raw: bytes, values: Mapping[str, str]) -> bytes:
    """``raw`` with the headers named in ``values`` replaced; every other byte kept as it was."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    names = {name.lower().encode() for name in values}
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):  # continuation of the previous header
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() in names
        if not skipping:
            kept.append(line)
    kept += [f"{name}: {value}".encode("ascii") for name, value in values.items()]
    return b"\r\n".join(kept) + (sep or b"\r\n\r\n") + body


def resend_last_mail(ctx: OpContext, entry: Entry) -> str:
    """Send the entry's last mail again as a fresh copy (new Message-ID and date), same recipients."""
    last = _last_mail(ctx.session, entry)
    if last is None:
        raise UsageError(f"aucun message n'a encore été envoyé pour {entry.ref} : rien à renvoyer")
    message_id = new_message_id(ctx.app.config.identity.domain)
    raw = _with_headers(last.raw, {"Message-ID": message_id,
                                   "Date": format_datetime(ctx.now.astimezone(dt.UTC))})
    outbox.enqueue(ctx.session, message_id=message_id, kind=last.kind, sender=last.sender,
                   recipients=list(last.recipients), raw=raw, health_data=last.health_data,
                   now=ctx.now, entry_id=entry.id, inbound_id=ctx.inbound_id)
    audit.record(ctx.session, actor=ctx.actor, action="entry.resend", object_type="entry",
                 object_id=entry.ref, after={"kind": last.kind, "copy_of": last.id},
                 inbound_message_id=ctx.inbound_id, at=ctx.now)
    resolve_alerts(ctx, entry_id=entry.id, prefix="delivery_")
    return (f"{MAIL_KINDS.get(last.kind, last.kind)} du {fr_date(last.created_at)} renvoyé à "
            f"{', '.join(last.recipients)}.")


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


# ---------------------------------------------------------------- GPs (issue 5 registry)

def find_gp(ctx: OpContext, text: str) -> GP:
    """The GP with this RPPS number; UsageError when unreadable, NotFoundError when unknown."""
    rpps = re.sub(r"[\s.]", "", text)
    if not gps.is_valid_rpps(rpps):
        raise UsageError(f"numéro RPPS illisible « {text.strip()[:20]} » : 11 chiffres, "
                         "ex. 10001234567")
    gp = gps.get_by_rpps(ctx.session, rpps)
    if gp is None:
        raise NotFoundError(f"aucun médecin de RPPS {rpps} dans le registre (mailbot gps list)")
    return gp


def change_gp_accepting(ctx: OpContext, rpps_text: str, accepting: bool) -> tuple[GP, bool]:
    """Pause (``False``) or resume (``True``) proposals to a GP; return it and whether it changed.

    Resuming settles the GP's open alerts (paused, no capacity…): the digest stops listing them.
    """
    gp = find_gp(ctx, rpps_text)
    changed = gps.set_accepting(ctx.session, gp, accepting, now=ctx.now, actor=ctx.actor,
                                inbound_id=ctx.inbound_id)
    if accepting:
        resolve_alerts(ctx, subject_ref=gp.rpps, prefix="gp_")
    return gp, changed


def set_gp_accepting(ctx: OpContext, rpps_text: str, accepting: bool) -> str:
    """Pause (``False``) or resume (``True``) proposals to a GP (``PAUSE``/``REPRISE``)."""
    gp, changed = change_gp_accepting(ctx, rpps_text, accepting)
    if accepting:
        if not changed:
            return f"{gp.display_name} ({gp.rpps}) recevait déjà des propositions : rien à changer."
        return f"{gp.display_name} ({gp.rpps}) reçoit de nouveau des propositions."
    if not changed:
        return f"{gp.display_name} ({gp.rpps}) était déjà en pause : rien à changer."
    return (f"{gp.display_name} ({gp.rpps}) est en pause : plus aucune proposition jusqu'à "
            f"REPRISE {gp.rpps}.")


def propose_entry(ctx: OpContext, entry: Entry, rpps_text: str) -> str:
    """Propose a waiting entry to one GP now: issue 5's *forced* proposal (mail, expiry, follow-up).

    The GP must accept proposals (not paused); a GP outside the entry's
    commune or criteria is allowed — the coordinator decides — and said.
    """
    # Imported here: matching is needed by this operation only, not by every mail's dispatch.
    from mailbot.matching.pool import compatible
    from mailbot.workflows import proposals

    gp = find_gp(ctx, rpps_text)
    if entry.status != EntryStatus.WAITING:
        raise UsageError(f"{entry.ref} est {STATUS_LABELS[entry.status]} : seule une inscription "
                         "en attente d'un médecin peut être proposée")
    if not gp.accepting:
        raise UsageError(f"{gp.display_name} ({gp.rpps}) est en pause : REPRISE {gp.rpps} d'abord, "
                         "s'il est d'accord")
    proposals.propose(ctx.app, ctx.session, entry, gp, ctx.now, ctx.actor, forced=True,
                      inbound_id=ctx.inbound_id)
    resolve_alerts(ctx, entry_id=entry.id, kinds=PROPOSAL_ALERT_KINDS)
    warning = ("" if compatible(gp, entry, local_date(ctx.now)) else
               " Attention : ce patient ne correspond pas aux critères ou aux communes déclarés "
               "par ce médecin.")
    return f"{entry.ref} proposée à {gp.display_name} ({gp.rpps}) : il a reçu la proposition.{warning}"
