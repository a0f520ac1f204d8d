"""``mailbot calls list`` and ``mailbot calls record REF --outcome …``: the coordinators' call list."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from mailbot.cli.common import app_of
from mailbot.clock import fr_date
from mailbot.errors import NotFoundError, UsageError
from mailbot.operations.labels import status_word
from parsers.cells import neutralise
from parsers.people import person_name, phone_display
from store import calls, entries
from store.models_recontact import CallOutcome
from store.refs import normalise_ref

# What coordinators may type after --outcome (English codes and French words).
OUTCOMES: dict[str, CallOutcome] = {
    "still-looking": CallOutcome.STILL_LOOKING, "still_looking": CallOutcome.STILL_LOOKING,
    "toujours": CallOutcome.STILL_LOOKING, "recherche": CallOutcome.STILL_LOOKING,
    "found": CallOutcome.FOUND, "trouve": CallOutcome.FOUND, "trouvé": CallOutcome.FOUND,
    "unreachable": CallOutcome.UNREACHABLE, "injoignable": CallOutcome.UNREACHABLE,
    "wrong-number": CallOutcome.WRONG_NUMBER, "wrong_number": CallOutcome.WRONG_NUMBER,
    "faux-numero": CallOutcome.WRONG_NUMBER, "faux-numéro": CallOutcome.WRONG_NUMBER,
}
FIELDS = ["ref", "status", "reason", "reason_label", "detail", "added_at", "attempts",
          "last_outcome", "last_called_at", "closed_at", "outcome", "nom", "prenom", "telephone",
          "email", "aidant", "confirmed_at"]


def register(sub: Any) -> None:
    """Add ``calls`` and its actions."""
    p = sub.add_parser("calls", help="liste d'appels : patients injoignables par mail")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("list", help="patients à appeler (les moins récemment essayés d'abord)")
    a.add_argument("--all", action="store_true", help="inclure les appels terminés")
    a.add_argument("--format", choices=["text", "json", "csv"], default="text",
                   help="text (tableau, défaut), json ou csv (pour un tableur)")
    a.add_argument("--output", help="fichier de sortie (défaut : sortie standard)")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("record", help="enregistrer le résultat d'un appel")
    a.add_argument("ref", help="référence de l'inscription, ex. E-7QK2M9")
    a.add_argument("--outcome", required=True, metavar="RÉSULTAT",
                   help="still-looking (toujours), found (trouve), unreachable (injoignable), "
                        "wrong-number (faux-numero)")
    a.add_argument("--doctor", help="avec found : le médecin trouvé (facultatif)")
    a.add_argument("--note", help="remarque libre, gardée dans l'historique de l'inscription")
    a.add_argument("--by", default="coordinateur", help="qui a appelé (trace d'audit)")
    a.set_defaults(handler=cmd_record)


def _plain(row: calls.CallListRow) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _write(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    except OSError as error:
        raise UsageError(f"écriture impossible dans {output} : {error.strerror}") from None


def cmd_list(args: argparse.Namespace) -> int:
    """The call list as a table, JSON or CSV."""
    app = app_of(args)
    with app.db.sessions() as session:
        rows = calls.call_list(session, include_closed=args.all)
    if args.format == "json":
        _write(json.dumps([_plain(r) for r in rows], ensure_ascii=False, indent=2) + "\n",
               args.output)
        return 0
    if args.format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({k: neutralise(v) for k, v in _plain(r).items()} for r in rows)
        _write(buffer.getvalue(), args.output)
        return 0
    table = Table("Réf.", "Patient", "Téléphone", "Motif", "Depuis", "Appels", "Dernier résultat")
    for r in rows:
        patient = person_name(r.nom, r.prenom) or "—"
        last = calls.OUTCOME_LABELS.get(r.last_outcome or "", "") if r.last_outcome else ""
        if r.closed_at:
            last = f"terminé : {calls.OUTCOME_LABELS.get(r.outcome or '', r.outcome or '')}"
        reason = r.reason_label + (f" ({r.detail})" if r.detail else "")
        table.add_row(r.ref, patient, phone_display(r.telephone) or "aucun", reason,
                      fr_date(r.added_at),
                      str(r.attempts), last)
    console = Console(file=io.StringIO(), width=160) if args.output else Console(width=160)
    console.print(table)
    summary = f"{sum(1 for r in rows if r.closed_at is None)} patient(s) à appeler.\n"
    if args.output:
        _write(console.file.getvalue() + summary, args.output)  # type: ignore[attr-defined]
    else:
        print(summary, end="")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Record one call on the entry's open item and apply its outcome."""
    outcome = OUTCOMES.get(args.outcome.strip().lower())
    if outcome is None:
        raise UsageError(f"--outcome : « {args.outcome} » inconnu ; attendu : still-looking, "
                         "found, unreachable ou wrong-number (ou toujours, trouve, injoignable, "
                         "faux-numero)")
    if args.doctor and outcome is not CallOutcome.FOUND:
        raise UsageError("--doctor ne va qu'avec --outcome found")
    app = app_of(args)
    ref = normalise_ref(args.ref)
    with app.db.transaction() as session:
        entry = entries.get_by_ref(session, ref)
        if entry is None:
            raise NotFoundError(f"aucune inscription {ref}")
        if calls.open_item(session, entry.id) is None:
            raise UsageError(f"{ref} n'est pas sur la liste d'appels (mailbot calls list)")
        item = calls.record_call(session, entry, outcome, now=app.clock.now(),
                                 actor=f"cli:{args.by}", note=args.note, doctor_name=args.doctor)
        status, closed = entry.status, item.closed_at is not None
    label = calls.OUTCOME_LABELS[outcome]
    if closed:
        print(f"{ref} : {label} — retiré de la liste d'appels (inscription "
              f"{status_word(status).lower()}).")
    else:
        print(f"{ref} : {label} — reste sur la liste d'appels.")
    return 0
