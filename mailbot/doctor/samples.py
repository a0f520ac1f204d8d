"""Render every shipped template with sample data (``mailbot doctor``, tests)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from mailbot.app import App
from mailbot.errors import TemplateError
from mailbot.workflows.digest import Item, Section

SAMPLES: dict[str, dict[str, Any]] = {
    "ack_registered": {"patient": "DURAND Marie"},
    "ack_completed": {"patient": "DURAND Marie"},
    "ack_duplicate": {"patient": "DURAND Marie", "changed": True},
    "ack_incomplete": {"patient": "DURAND Marie", "token": "ABCDEFGHJKMNPQ",
                       "problems": [{"key": "commune", "label": "Commune", "code": "missing",
                                     "message": "information manquante", "example": "Angoulême"},
                                    {"key": "nom", "label": "Nom", "code": "conflict",
                                     "message": "la fiche indique deux valeurs différentes, "
                                                "« DURAND » et « MARTIN »", "example": ""}]},
    "ack_refused": {"patient": "DURAND Marie", "reason": "hors territoire", "advice": ""},
    "ack_batch": {"rows": [{"where": "ligne 2", "initials": "D. M.", "outcome": "inscrit(e)",
                            "ref": "E-7QK2M9", "problems": []}], "hidden": 0,
                  "counts": {"total": 1, "registered": 1, "incomplete": 0, "merged": 0,
                             "set_aside": 0}, "sources": ["patients.xlsx"], "notes": []},
    "ack_attachment_problem": {"problems": [{"source": "fiche.pdf", "message": "protégé",
                                             "advice": "Renvoyez-le sans mot de passe."}]},
    "recontact": {"registered": "12/03/2026", "token": "ABCDEFGHJKMNPQ", "reminder": False,
                  "next_step": "reminder", "deadline": "15/12/2026"},
    "recontact_ack_yes": {"today": "01/12/2026", "interval_days": 30},
    "recontact_ack_no": {"today": "01/12/2026", "token": "ABCDEFGHJKMNPQ"},
}

# Issue 7: digest, urgent alerts and answers to coordinators' commands.
_ITEM = Item(ref="E-7QK2M9", since=dt.datetime(2026, 11, 28, tzinfo=dt.UTC), age="depuis 3 jours",
             reason="proposition déclinée", command="PROPOSER E-7QK2M9 A <RPPS>", new=True,
             attached="message-12.eml")
SAMPLES.update({
    "digest": {"sections": [Section("proposals", "Propositions déclinées ou expirées", [_ITEM], 2)],
               "total": 1, "new": 1, "date": "01/12/2026", "attachments": 1,
               "thresholds": {"reminder_days": 7}},
    "urgent": {"items": [_ITEM], "date": "01/12/2026"},
    "command_reply": {"results": [{"line": "STATUT E-7QK2M9", "ok": True, "message": "…"},
                                  {"line": "FOO", "ok": False, "message": "ligne non comprise"}],
                      "done": 1, "failed": 1, "help": "Commandes : …"},
})

# Issue 5: proposals to GPs, mise en relation, follow-up, GP commands.
_GP = SimpleNamespace(nom="BERNARD", prenom="Paul", capacity_per_month=3, accepting=True)
_COMMANDS = ["PAUSE : suspendre les propositions", "DEMANDE n : recevoir n propositions"]
_PROPOSED = {"gp": _GP, "commands": _COMMANDS, "token": "ABCDEFGHJKMNPQ", "age_band": "70-79 ans",
             "commune": "16000 Angoulême", "code_postal": "16000", "criteria": ["ALD"],
             "waiting": "45 jours",
             "referrer_type": "DAC", "deadline": "08/12/2026", "after_decline": False,
             "expiry_days": 7}
SAMPLES.update({
    "proposal": _PROPOSED,
    "proposal_reminder": _PROPOSED,
    "proposal_declined": {"gp": _GP, "commands": _COMMANDS, "reason": "complet",
                          "limited_by": "candidates"},
    "proposal_withdrawn": {"gp": _GP, "commands": _COMMANDS, "proposed_on": "01/12/2026"},
    "match_gp": {"gp": _GP, "commands": _COMMANDS, "followup_days": 30,
                 "patient": {"nom": "DURAND", "prenom": "Marie", "nom_usage": None,
                             "date_naissance": "12/03/1948", "sexe": "femme", "ins": None,
                             "telephone": "06 12 34 56 78", "email": None, "adresse": None,
                             "commune": "16000 Angoulême", "aidant": None, "motif": None,
                             "ancien_medecin": None, "criteria": ["ALD"]},
                 "referrer": {"nom": "Mme Martin", "structure": "DAC 16", "telephone": None,
                              "email": "coordination@dac16.mssante.fr"}},
    "match_patient": {"doctor": "Dr Paul Bernard", "practice_name": "Cabinet des Lilas",
                      "practice_address": "3 rue des Lilas, 16000 Angoulême",
                      "practice_phone": "05 45 12 34 56"},
    "followup": {"gp": _GP, "commands": _COMMANDS, "token": "ABCDEFGHJKMNPQ",
                 "patient": "DURAND Marie, né(e) le 12/03/1948", "accepted_on": "01/11/2026",
                 "deadline": "15/12/2026"},
    "followup_ack": {"gp": _GP, "commands": _COMMANDS, "became": True, "next_on": None},
    "gp_paused": {"gp": _GP, "commands": _COMMANDS, "pending": 1, "accepted_this_month": 0},
    "gp_resumed": {"gp": _GP, "commands": _COMMANDS, "pending": 0, "accepted_this_month": 1},
    "gp_capacity": {"gp": _GP, "commands": _COMMANDS, "pending": 0, "accepted_this_month": 1},
    "gp_request": {"gp": _GP, "commands": _COMMANDS, "asked": 2, "sent": 1,
                   "limited_by": "candidates", "pending": 1, "accepted_this_month": 0},
})
SAMPLES["followup_reminder"] = SAMPLES["followup"]


def render_all(app: App) -> list[str]:
    """Render each sample; return a line per failure."""
    entry = SimpleNamespace(ref="E-7QK2M9", received_at=dt.datetime.now(dt.UTC))
    failures = []
    for name, context in SAMPLES.items():
        try:
            app.templates.render(name, cpts=app.config.identity, entry=entry, **context)
        except TemplateError as error:
            failures.append(str(error))
    return failures
