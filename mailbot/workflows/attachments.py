"""Referrals sent as attachments: filled PDF forms, CSV/XLSX batches, IHE XDM archives.

:func:`handle_partner_mail` reads the attachments (:mod:`parsers.referral.attached`)
before the body. One form attached → :func:`~mailbot.workflows.intake.register_form`,
completed by the form typed in the body (the attachment's values win, conflicts
listed). A batch or several forms → :func:`~mailbot.workflows.intake_batch.register_items`.
No referral attached → the body form, as before. Attachments that cannot be read get
a French answer saying why and what to do; the mail is escalated, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mailbot.clock import local_date
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows.base import Outcome, Work, escalate
from mailbot.workflows.intake import handle_referral, register_form
from mailbot.workflows.intake_batch import Item, register_items
from parsers.mime import header
from parsers.referral import NotAForm, ReferralForm, parse_text_form
from parsers.referral.attached import FoundBatch, FoundForm, FoundProblem, read_attachments
from parsers.referral.combine import combine

log = logging.getLogger(__name__)
for _name in ("pypdf", "openpyxl"):  # their warnings may quote a file's content
    logging.getLogger(_name).setLevel(logging.ERROR)

ADVICE = {
    "encrypted": "Renvoyez-le sans mot de passe : la messagerie sécurisée protège déjà l'envoi.",
    "no_fields": "Utilisez la fiche PDF remplissable de la CPTS, ou écrivez la fiche dans le "
                 "corps du message.",
    "empty_form": "Remplissez les champs du formulaire, enregistrez-le puis renvoyez-le.",
    "macros": "Enregistrez le classeur au format .xlsx (sans macros) ou .csv, puis renvoyez-le.",
    "empty": "Vérifiez que c'est le bon fichier : une ligne d'en-tête (Nom, Prénom, Date de "
             "naissance…) puis une ligne par patient.",
    "no_header": "Ajoutez une ligne d'en-tête (Nom, Prénom, Date de naissance, Téléphone, "
                 "Code postal, Commune, Consentement) au-dessus des patients.",
    "old_format": "Enregistrez le tableau au format .xlsx ou .csv depuis le tableur, puis "
                  "renvoyez-le.",
    "too_many_rows": "Envoyez le tableau en plusieurs fichiers plus petits.",
    "ins_mismatch": "Vérifiez l'identité du patient et renvoyez le document.",
    "bomb": "Renvoyez le document seul, sans l'archiver.",
    "path": "Renvoyez le document seul, sans l'archiver.",
}
_DEFAULT_ADVICE = "Renvoyez le fichier : il a pu être abîmé pendant l'envoi."


def _problem_notes(problems: Sequence[FoundProblem]) -> list[str]:
    return [f"La pièce jointe « {p.source} » n'a pas été lue : {p.message}." for p in problems]


def _answer_problems(work: Work, problems: Sequence[FoundProblem]) -> Outcome:
    """Tell the partner why (file names may name the patient: health data), escalate."""
    assert work.sender is not None
    enqueue_mail(work.app, work.session, kind="ack_attachment_problem", to=work.sender,
                 template="ack_attachment_problem", now=work.now, health_data=True,
                 thread=work.thread, inbound_id=work.row.id,
                 context={"problems": [{"source": p.source, "message": p.message,
                                        "advice": ADVICE.get(p.code, _DEFAULT_ADVICE)}
                                       for p in problems]})
    codes = ", ".join(sorted({f"{p.kind}:{p.code}" for p in problems}))
    log.info("attachment(s) unreadable (%s): escalated", codes)
    return escalate(f"pièce jointe illisible ({codes})", kind="attachment_problem")


def _body_form(work: Work, partial: bool) -> ReferralForm | None:
    today = local_date(work.now)
    form = parse_text_form(work.body, today=today)
    if isinstance(form, NotAForm) and partial:
        form = parse_text_form(work.body, today=today, partial=True)
    return form if isinstance(form, ReferralForm) else None


def _batch_items(found: Sequence[FoundForm | FoundBatch]) -> list[Item]:
    items: list[Item] = []
    for one in found:
        if isinstance(one, FoundForm):
            items.append(Item(where=f"« {one.source} »", form=one.form))
            continue
        sheets = {row.sheet for row in one.batch.rows}
        for row in one.batch.rows:
            where = f"ligne {row.number}" + (f" (feuille {row.sheet})" if len(sheets) > 1 else "")
            items.append(Item(where=where, form=row.form, rejected=row.rejected))
    return items


def handle_partner_mail(work: Work) -> Outcome:
    """A partner's mail: referrals attached, else the form in the body."""
    found = read_attachments(work.msg, today=local_date(work.now),
                             mss_ins=header(work.msg, "X-MSS-INS"))
    usable = [f for f in found if isinstance(f, FoundForm | FoundBatch)]
    problems = [f for f in found if isinstance(f, FoundProblem)]
    if not usable:
        if problems and _body_form(work, partial=False) is None:
            return _answer_problems(work, problems)
        return handle_referral(work)  # no referral attached: the body (a letter may be attached)
    notes = _problem_notes(problems)
    if len(usable) == 1 and isinstance(usable[0], FoundForm):
        one = usable[0]
        form, conflicts = combine(one.form, _body_form(work, partial=one.identity_only))
        return register_form(work, form, conflicts=conflicts, notes=notes)
    notes += [note for f in usable if isinstance(f, FoundBatch) for note in f.batch.notes]
    return register_items(work, _batch_items(usable), sources=[f.source for f in usable],
                          notes=notes)
