"""The coordinators' digest: what the bot could not decide alone, and the command that settles it.

Sources, read at each digest:

* escalated and quarantined inbound mails (``inbound_message``);
* open :class:`~store.models.Alert` rows, whatever workflow raised them
  (proposals, follow-ups, call list, deliveries…), sorted into sections by
  kind — an unknown kind lands in « Autres points », never lost;
* states: entries incomplete or waiting beyond the configured days, GPs
  paused or without monthly capacity.

What stays visible: an open alert is listed in every digest until it is
resolved (by a command such as ``CLOTURER`` or ``RENVOYER``, by its
workflow, or automatically when its entry is closed or resolved); states are
listed while they hold. An escalated or quarantined mail is detailed, with
the original attached, in the first digest after it arrived, then recalled
in one line for ``reminder_days``. Items not shown before are marked
« nouveau »; the digest records what it showed (``Alert.notified_at``,
:class:`~store.models_coordination.InboundNotice`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import fr_date, local_date
from mailbot.workflows import reply_decision
from parsers.referral import FRENCH_LABELS
from store import audit
from store.models import OPEN_STATUSES, Alert, Entry, EntryStatus, InboundMessage, InboundState
from store.models_coordination import InboundNotice
from store.models_matching import GP

# (key, title); ``{days}`` is filled from the configuration.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("urgent", "Signalements urgents en cours"),
    ("to_read", "Messages et réponses à relire"),
    ("unknown_senders", "Messages d'expéditeurs inconnus ou non authentifiés (mis en quarantaine)"),
    ("incomplete", "Fiches incomplètes depuis plus de {incomplete} jours"),
    ("proposals", "Propositions déclinées ou expirées"),
    ("not_mt", "Médecins qui ne sont pas devenus médecin traitant"),
    ("calls", "Patients à appeler"),
    ("deliveries", "Envois en échec"),
    ("gps", "Médecins en pause ou sans capacité"),
    ("long_wait", "En attente d'un médecin depuis plus de {waiting} jours"),
    ("other", "Autres points"),
)

# Alert kinds (exact or prefix ending in ``_``) → section.
ALERT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("urgent_referral", "urgent"), ("recontact_opt_out", "to_read"), ("proposal_", "proposals"), ("not_mt", "not_mt"),
    ("followup_", "not_mt"), ("call_", "calls"), ("patient_to_call", "calls"),
    ("address_failing", "calls"), ("delivery_", "deliveries"), ("bounce", "deliveries"),
    ("gp_", "gps"), ("mail_too_big", "unknown_senders"), ("encryption_", "deliveries"),
)

# Quarantined mails never attached (size, or possibly dangerous content).
_NOT_ATTACHED = ("too_big", "malware", "virus", "suspicious", "dangerous")

# Outbox kinds of the mails sent to coordinators: a failure to deliver them cannot be
# announced by mail (it would fail the same way) — it is logged and shown in the digest.
COORDINATION_KINDS = frozenset({"digest", "urgent", "command_reply"})


@dataclass
class Item:
    """One point of the digest: reference, age, reason, and the command that settles it."""

    ref: str
    since: dt.datetime
    age: str
    reason: str
    command: str
    new: bool
    alert_id: int | None = None
    inbound_id: int | None = None
    original_id: int | None = None  # the inbound mail to attach, when new
    attached: str | None = None     # attachment file name, once joined


@dataclass
class Section:
    """A titled list of items; ``hidden`` counts those beyond the per-section limit."""

    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    hidden: int = 0


@dataclass
class Digest:
    """The sections with something to say, in order."""

    sections: list[Section]

    @property
    def items(self) -> list[Item]:
        """Every item listed."""
        return [item for section in self.sections for item in section.items]

    @property
    def new_count(self) -> int:
        """Items shown for the first time."""
        return sum(1 for item in self.items if item.new)


def age_text(since: dt.datetime, now: dt.datetime) -> str:
    """``aujourd'hui``, ``depuis 1 jour``, ``depuis 12 jours`` (calendar days, Paris time)."""
    days = (local_date(now) - local_date(since)).days
    if days <= 0:
        return "aujourd'hui"
    return f"depuis {days} jour{'s' if days > 1 else ''}"


def section_of(kind: str) -> str:
    """The section of an alert kind (« other » for kinds nobody mapped)."""
    for pattern, key in ALERT_SECTIONS:
        if kind == pattern or (pattern.endswith("_") and kind.startswith(pattern)):
            return key
    return "other"


def alert_command(kind: str, ref: str | None, subject_ref: str | None) -> str:
    """What a coordinator does about an alert, as a command when there is one."""
    gp = subject_ref or "<RPPS>"
    if ref is None:
        if kind == "mail_too_big":
            return "demandez à l'expéditeur de renvoyer son message sans pièces jointes volumineuses"
        if kind.startswith("gp_"):
            return f"REPRISE {gp} quand le médecin peut de nouveau recevoir des patients"
        if kind == "delivery_uncertain":
            return ("l'envoi a été interrompu pendant la remise : demandez au destinataire s'il "
                    "a bien reçu le message")
        if kind.startswith("delivery_"):
            return "vérifiez l'adresse du destinataire et la configuration des envois (mailbot doctor)"
        return "voir le détail avec mailbot doctor ou l'administrateur du robot"
    commands = {
        "urgent_referral": f"PRIORITAIRE {ref}, ou PROPOSER {ref} A <RPPS>",
        "recontact_opt_out": f"plus aucun recontact ne lui sera envoyé ; s'il ne cherche plus : "
                             f"CLOTURER {ref} retrait, sinon rien",
        "proposal_": f"PROPOSER {ref} A <RPPS> pour un médecin précis ; sinon rien : "
                     "l'inscription reste en attente à son rang",
        "not_mt": f"PROPOSER {ref} A <RPPS>, ou CLOTURER {ref} motif",
        "followup_": f"STATUT {ref}, puis PROPOSER {ref} A <RPPS> ou CLOTURER {ref} motif",
        "call_": f"appelez le patient (STATUT {ref} donne son téléphone) ; "
                 f"s'il ne cherche plus : CLOTURER {ref} retrait",
        "patient_to_call": f"appelez le patient (STATUT {ref}) ; s'il ne cherche plus : "
                           f"CLOTURER {ref} retrait",
        "address_failing": f"appelez le patient pour une nouvelle adresse, puis COMPLETER {ref} "
                           "et, à la ligne, Mail : …",
        "encryption_key_missing": f"importez la clé OpenPGP du destinataire, vérifiée avec lui "
                                  f"(mailbot keys import FICHIER), puis RENVOYER {ref}",
        "delivery_refused": f"le message portait des données de santé vers une adresse hors "
                            f"MSSanté : vérifiez l'adresse ou les voies d'envoi, puis RENVOYER {ref}",
        "delivery_uncertain": f"l'envoi a été interrompu pendant la remise : le destinataire "
                              f"l'a peut-être reçu ; vérifiez auprès de lui avant de RENVOYER {ref}",
        "delivery_": f"corrigez l'adresse si besoin (COMPLETER {ref}), puis RENVOYER {ref}",
        "bounce": f"corrigez l'adresse si besoin (COMPLETER {ref}), puis RENVOYER {ref}",
        "gp_": f"REPRISE {gp} quand le médecin peut de nouveau recevoir des patients",
    }
    for pattern, command in commands.items():
        if kind == pattern or (pattern.endswith("_") and kind.startswith(pattern)):
            return command
    return f"STATUT {ref}, puis la commande adaptée (AIDE pour la liste)"


_GPG_COMMANDS = {
    "gpg_unknown_key": ("signature d'une clé inconnue : vérifiez l'empreinte avec l'expéditeur, "
                        "importez sa clé (mailbot keys import FICHIER) et demandez-lui de renvoyer"),
    "gpg_undecryptable": ("message chiffré illisible : vérifiez la clé du robot (mailbot doctor) "
                          "et demandez à l'expéditeur de renvoyer avec la clé publique du robot"),
    "command_unsigned": "renvoyez vos commandes signées avec votre clé OpenPGP",
}


def inbound_command(kind: str | None, state: str, ref: str | None) -> str:
    """What a coordinator does about an escalated or quarantined mail."""
    kind = kind or ""
    if state == InboundState.QUARANTINED:
        if kind == "unknown_sender":
            return ("si c'est un partenaire, ajoutez son adresse à [senders] partners de la "
                    "configuration puis demandez-lui de renvoyer sa fiche ; sinon, rien à faire")
        if kind == "command_refused":
            return ("si cette personne est coordinatrice, ajoutez son adresse à [senders] "
                    "coordinators ; sinon, rien à faire")
        if kind in ("sender_mismatch", "dkim_fail", "dkim_missing"):
            return ("expéditeur non authentifié : vérifiez par téléphone auprès de l'expéditeur "
                    "avant de traiter ce message à la main")
        if kind == "sender_blocked":
            return ("si l'adresse est de confiance, levez la quarantaine : "
                    "mailbot senders unblock ADRESSE")
        if kind == "too_big":
            return "demandez à l'expéditeur de renvoyer son message sans pièces jointes volumineuses"
        return "lisez le message joint ; le robot n'en a rien fait"
    if ref is not None and (kind.startswith("completion") or kind.startswith("reply")):
        return f"COMPLETER {ref} et, à la ligne, les rubriques du message joint"
    if kind == "not_a_form":
        return ("si c'est une fiche, demandez à l'expéditeur de la renvoyer remplie "
                "(« Rubrique : valeur ») ; sinon, répondez-lui directement")
    if kind.startswith("gpg_") or kind == "command_unsigned":
        return _GPG_COMMANDS.get(kind, "message non authentifié : vérifiez auprès de l'expéditeur "
                                       "par téléphone avant d'en tenir compte")
    if kind == "processing_error":
        return ("le robot n'a pas pu traiter ce message : lisez-le et traitez-le à la main, "
                "et prévenez l'administrateur")
    if ref is not None:
        return f"lisez le message joint, puis STATUT {ref} et la commande adaptée"
    return "lisez le message joint et répondez directement à son expéditeur"


def _is_mail_notice(alert: Alert) -> bool:
    """An alert that only points at a set-aside mail (e.g. ``mail_too_big``): shown like one."""
    return (alert.inbound_message_id is not None and alert.entry_id is None
            and alert.outbox_id is None and alert.subject_ref is None)


def resolve_settled_alerts(session: Session, now: dt.datetime, reminder_days: int) -> int:
    """Resolve the open alerts nothing is left to do about.

    Those whose entry is closed or resolved, and those about a set-aside mail
    once it has been recalled for ``reminder_days`` (the rule of set-aside mails).
    """
    settled = list(session.scalars(
        select(Alert).join(Entry, Entry.id == Alert.entry_id)
        .where(Alert.resolved_at.is_(None), Entry.status.not_in(list(OPEN_STATUSES)))))
    recalled = [a for a in session.scalars(
        select(Alert).where(Alert.resolved_at.is_(None), Alert.entry_id.is_(None),
                            Alert.notified_at < now - dt.timedelta(days=reminder_days)))
        if _is_mail_notice(a)]
    for alert, why in [*((a, "entry_left") for a in settled), *((a, "recalled") for a in recalled)]:
        alert.resolved_at = now
        audit.record(session, actor="system", action="alert.resolve", object_type="alert",
                     object_id=alert.id, after={"kind": alert.kind, "why": why}, at=now)
    return len(settled) + len(recalled)


def _refs(session: Session, entry_ids: set[int]) -> dict[int, str]:
    if not entry_ids:
        return {}
    rows = session.execute(select(Entry.id, Entry.ref).where(Entry.id.in_(entry_ids)))
    return {entry_id: ref for entry_id, ref in rows}


def alert_items(session: Session, alerts: list[Alert], now: dt.datetime) -> list[tuple[str, Item]]:
    """(section, item) for each alert."""
    refs = _refs(session, {a.entry_id for a in alerts if a.entry_id})
    found = []
    for alert in alerts:
        ref = refs.get(alert.entry_id) if alert.entry_id else None
        shown = ref or (f"RPPS {alert.subject_ref}" if alert.kind.startswith("gp_") and alert.subject_ref
                        else alert.subject_ref or "—")
        found.append((section_of(alert.kind), Item(
            ref=shown, since=alert.created_at, age=age_text(alert.created_at, now),
            reason=alert.reason, command=alert_command(alert.kind, ref, alert.subject_ref),
            new=alert.notified_at is None, alert_id=alert.id,
            original_id=alert.inbound_message_id if alert.notified_at is None else None)))
    return found


def _inbound_items(session: Session, app: App, now: dt.datetime) -> list[tuple[str, Item]]:
    since = now - dt.timedelta(days=app.config.coordination.reminder_days)
    query = (select(InboundMessage.id, InboundMessage.state, InboundMessage.kind,
                    InboundMessage.reason, InboundMessage.sender, InboundMessage.received_at,
                    InboundMessage.entry_id, InboundMessage.decision_rule,
                    InboundMessage.decision_evidence, InboundNotice.notified_at)
             .outerjoin(InboundNotice, InboundNotice.inbound_message_id == InboundMessage.id)
             .where(InboundMessage.state.in_([InboundState.ESCALATED, InboundState.QUARANTINED]),
                    or_(InboundNotice.notified_at.is_(None), InboundNotice.notified_at >= since))
             .order_by(InboundMessage.id))
    rows = session.execute(query).all()
    refs = _refs(session, {r.entry_id for r in rows if r.entry_id})
    found = []
    for row in rows:
        ref = refs.get(row.entry_id) if row.entry_id else None
        new = row.notified_at is None
        attachable = not any(word in (row.kind or "") for word in _NOT_ATTACHED)
        reason = (row.reason or row.kind or "message mis de côté") + (
            f" (de {row.sender}, reçu le {fr_date(row.received_at)})" if row.sender else "")
        if row.decision_rule:  # how the reply was read, so that the reader sees why
            reason += " — " + reply_decision.describe(row.decision_rule, row.decision_evidence)
        if not new:
            reason += f" — déjà signalé le {fr_date(row.notified_at)}"
        key = "unknown_senders" if row.state == InboundState.QUARANTINED else "to_read"
        found.append((key, Item(
            ref=ref or f"message n° {row.id}", since=row.received_at,
            age=age_text(row.received_at, now), reason=reason,
            command=inbound_command(row.kind, row.state, ref), new=new, inbound_id=row.id,
            original_id=row.id if new and attachable else None)))
    return found


def _entry_items(session: Session, status: EntryStatus, days: int, now: dt.datetime,
                 last_run_at: dt.datetime | None) -> list[Item]:
    """Entries in ``status`` registered more than ``days`` ago; new when crossed since the last digest."""
    if days <= 0:
        return []
    limit = now - dt.timedelta(days=days)
    crossed_after = last_run_at - dt.timedelta(days=days) if last_run_at else None
    rows = session.execute(select(Entry.ref, Entry.received_at, Entry.problems, Entry.priority)
                           .where(Entry.status == status, Entry.received_at <= limit)
                           .order_by(Entry.received_at, Entry.id)).all()
    items = []
    for ref, received_at, problems, priority in rows:
        if status == EntryStatus.INCOMPLETE:
            labels = dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"]) for p in problems or [])
            reason = "il manque : " + (", ".join(labels) or "?")
            command = f"COMPLETER {ref} et, à la ligne, les rubriques manquantes ; ou CLOTURER {ref} injoignable"
        else:
            reason = "toujours sans médecin" + (" (prioritaire)" if priority else "")
            command = (f"PROPOSER {ref} A <RPPS>" if priority else
                       f"PRIORITAIRE {ref}, ou PROPOSER {ref} A <RPPS>")
        items.append(Item(ref=ref, since=received_at, age=age_text(received_at, now), reason=reason,
                          command=command, new=crossed_after is None or received_at > crossed_after))
    return items


def _gp_items(session: Session, now: dt.datetime, last_run_at: dt.datetime | None) -> list[Item]:
    """GPs paused, or with a monthly capacity of zero (issue 5's registry)."""
    gps = session.scalars(select(GP).where(or_(GP.accepting.is_(False), GP.capacity_per_month == 0))
                          .order_by(GP.accepting_changed_at, GP.id))
    items = []
    for gp in gps:
        paused = not gp.accepting
        since = gp.accepting_changed_at if paused else gp.updated_at
        items.append(Item(
            ref=f"{gp.display_name} (RPPS {gp.rpps})", since=since, age=age_text(since, now),
            reason="en pause : ne reçoit plus de propositions" if paused else
                   "capacité mensuelle à 0 : ne reçoit plus de propositions",
            command=f"REPRISE {gp.rpps} quand il peut de nouveau recevoir des patients" if paused
                    else "le médecin répond CAPACITE n, ou : mailbot gps set",
            new=last_run_at is None or since > last_run_at))
    return items


def collect(app: App, session: Session, now: dt.datetime,
            last_run_at: dt.datetime | None) -> Digest:
    """Everything the digest should show now, by section (``last_run_at``: the previous digest)."""
    cfg = app.config.coordination
    by_key: dict[str, list[Item]] = {key: [] for key, _ in SECTIONS}
    alerts = list(session.scalars(select(Alert).where(Alert.resolved_at.is_(None))
                                  .order_by(Alert.id)))
    noticed = {a.inbound_message_id for a in alerts if _is_mail_notice(a)}
    for key, item in _inbound_items(session, app, now):
        if item.inbound_id not in noticed:  # else its alert says it, with a better reason
            by_key[key].append(item)
    for key, item in alert_items(session, alerts, now):
        by_key[key].append(item)
    by_key["incomplete"] += _entry_items(session, EntryStatus.INCOMPLETE,
                                         cfg.incomplete_after_days, now, last_run_at)
    by_key["long_wait"] += _entry_items(session, EntryStatus.WAITING, cfg.waiting_after_days, now,
                                        last_run_at)
    by_key["gps"] += _gp_items(session, now, last_run_at)
    titles: dict[str, Any] = {"incomplete": cfg.incomplete_after_days,
                              "waiting": cfg.waiting_after_days}
    sections = []
    for key, title in SECTIONS:
        items = sorted(by_key[key], key=lambda i: (not i.new, i.since))
        if items:
            shown = items[:cfg.max_items_per_section]
            sections.append(Section(key, title.format(**titles), shown, len(items) - len(shown)))
    return Digest(sections)
