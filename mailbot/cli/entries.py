"""``mailbot entries list|show|export``, and the coordinators' actions (close, reopen…)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import getpass
import io
import json
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from mailbot import operations
from mailbot.cli import entries_export
from mailbot.cli.common import app_of
from mailbot.clock import PARIS, fr_date
from mailbot.errors import NotFoundError, UsageError
from mailbot.matching.explain import proposal_lines
from mailbot.operations.history import event_text
from mailbot.operations.labels import DELIVERY_WORDS, counts_text
from mailbot.outbound.delivery import OutboxWorker
from parsers.cells import neutralise
from parsers.people import person_name, phone_display
from parsers.referral.types import CANONICAL_KEYS, FRENCH_LABELS
from store import entries as entry_store
from store.models import Entry
from store.refs import normalise_ref

STATUS_HELP = ("filtrer par état : en attente, incomplète, proposée, acceptée, résolue, clôturée "
               "ou reçue (les codes des scripts marchent aussi)")


def status_arg(text: str) -> str:
    """``--status "en attente"`` (or ``waiting``) → the stored status."""
    status = operations.status_from_text(text)
    if status is None:
        raise argparse.ArgumentTypeError(
            f"état inconnu « {text} » (en attente, incomplète, proposée, acceptée, résolue, "
            "clôturée ou reçue)")
    return status.value


def yes_no_arg(text: str) -> bool:
    """``oui``/``non``, ``true``/``false``, ``1``/``0``."""
    folded = text.strip().lower()
    if folded in ("oui", "o", "true", "vrai", "1", "yes"):
        return True
    if folded in ("non", "n", "false", "faux", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"« {text} » : attendu oui ou non")


EXPORT_HEAD = ["ref", "status", "received_at", "referrer_email", "source_message_id", "problems"]


def register(sub: Any) -> None:
    """Add ``entries`` and its actions."""
    p = sub.add_parser("entries", help="consulter et exporter la liste d'attente")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("list", help="lister les inscriptions")
    a.add_argument("--status", type=status_arg, metavar="ÉTAT", help=STATUS_HELP)
    a.add_argument("--limit", type=int, default=200, help="nombre maximum de lignes (défaut 200)")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("show", help="afficher une inscription et son historique")
    a.add_argument("ref", metavar="RÉF", help="référence, ex. E-7QK2M9")
    a.set_defaults(handler=cmd_show)
    a = actions.add_parser("export", help="exporter (JSON ou CSV) vers la sortie standard")
    a.add_argument("--format", choices=["json", "csv", "xlsx"], default="json",
                   help="json (défaut, pour les scripts), csv (s'ouvre dans Excel) ou xlsx "
                        "(classeur avec filtres)")
    a.add_argument("--excel-compat", type=yes_no_arg, default=True, metavar="oui|non",
                   help="csv pour Excel en français (défaut : oui ; « ; », en-têtes et mots "
                        "français, dates jj/mm/aaaa) ; non = le format des scripts (« , », clés, "
                        "dates ISO, true/false)")
    a.add_argument("--status", type=status_arg, metavar="ÉTAT", help=STATUS_HELP)
    a.add_argument("--output", metavar="FICHIER",
                   help="fichier de sortie (défaut : sortie standard)")
    a.set_defaults(handler=cmd_export)
    _register_actions(actions)


# ---- coordinators' actions (issue 7): the same operations as the commands by mail ----

def _register_actions(actions: Any) -> None:
    """``status``, ``close``, ``reopen``, ``prioritize``, ``resend``, ``complete``, ``propose``."""
    def action(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        a = actions.add_parser(name, help=help_text)
        a.add_argument("ref", metavar="RÉF", help="référence, ex. E-7QK2M9")
        a.set_defaults(handler=handler)
        return a

    action("status", "où en est une inscription (comme STATUT par mail)", cmd_status)
    a = action("close", "clôturer une inscription (comme CLOTURER par mail)", cmd_close)
    a.add_argument("--reason", required=True, metavar="MOTIF",
                   help=f"{operations.ACCEPTED_REASONS}, suivi si besoin d'un commentaire")
    action("reopen", "remettre en attente une inscription clôturée ou résolue", cmd_reopen)
    action("prioritize", "rendre une inscription prioritaire", cmd_prioritize)
    action("resend", "renvoyer le dernier message envoyé pour une inscription", cmd_resend)
    a = action("complete", "compléter ou corriger une inscription", cmd_complete)
    a.add_argument("--line", action="append", required=True, metavar="LIGNE",
                   help="une rubrique de la fiche, ex. \"Commune : Angoulême\" (répétable)")
    a = action("propose", "proposer tout de suite une inscription à un médecin", cmd_propose)
    a.add_argument("--gp", required=True, metavar="RPPS", help="RPPS du médecin")


def cli_actor() -> str:
    """``cli:<user>``: who acts from the command line, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:inconnu"


def _operate(args: argparse.Namespace, operation: Callable[[operations.OpContext, Entry], str],
             *, deliver: bool = False) -> int:
    """Run one operation on the entry ``args.ref`` in one transaction; print its result."""
    app = app_of(args)
    with app.db.transaction() as session:
        ctx = operations.OpContext(app, session, cli_actor(), app.clock.now())
        message = operation(ctx, operations.find_entry(ctx, args.ref))
    print(message)
    if deliver:
        counts = asyncio.run(OutboxWorker(app).deliver_due())
        if counts:
            print("envois : " + counts_text(counts, DELIVERY_WORDS))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """``entries status REF``."""
    return _operate(args, operations.entry_status)


def cmd_close(args: argparse.Namespace) -> int:
    """``entries close REF --reason MOTIF``."""
    return _operate(args, lambda ctx, entry: operations.close_entry(ctx, entry, args.reason))


def cmd_reopen(args: argparse.Namespace) -> int:
    """``entries reopen REF``."""
    return _operate(args, operations.reopen_entry)


def cmd_prioritize(args: argparse.Namespace) -> int:
    """``entries prioritize REF``."""
    return _operate(args, operations.prioritize_entry)


def cmd_resend(args: argparse.Namespace) -> int:
    """``entries resend REF``: the copy is delivered at once."""
    return _operate(args, operations.resend_last_mail, deliver=True)


def cmd_complete(args: argparse.Namespace) -> int:
    """``entries complete REF --line "Commune : X" [--line …]``."""
    return _operate(args, lambda ctx, entry: operations.complete_entry(ctx, entry,
                                                                       "\n".join(args.line)))


def cmd_propose(args: argparse.Namespace) -> int:
    """``entries propose REF --gp RPPS``: the proposal mail is delivered at once."""
    return _operate(args, lambda ctx, entry: operations.propose_entry(ctx, entry, args.gp),
                    deliver=True)


def cmd_list(args: argparse.Namespace) -> int:
    """A table of entries, oldest registration first."""
    app = app_of(args)
    table = Table("Réf.", "État", "Inscrit le", "Patient", "CP", "À compléter")
    with app.db.sessions() as session:
        query = select(Entry).order_by(Entry.received_at, Entry.id).limit(args.limit)
        if args.status:
            query = query.where(Entry.status == args.status)
        rows = session.scalars(query).all()
        for entry in rows:
            patient = person_name(entry.nom, entry.prenom) or "—"
            problems = ", ".join(dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"])
                                               for p in entry.problems))
            table.add_row(entry.ref, operations.status_word(entry.status),
                          fr_date(entry.received_at), patient, entry.code_postal or "", problems)
    Console().print(table)
    print(f"{len(rows)} inscription{'s' if len(rows) > 1 else ''}.")
    return 0


def _find(session: Any, ref: str) -> Entry:
    entry = entry_store.get_by_ref(session, normalise_ref(ref))
    if entry is None:
        raise NotFoundError(f"aucune inscription {normalise_ref(ref)}")
    return entry


def _show_value(key: str, value: Any) -> str:
    if key in ("telephone", "referent_telephone"):
        return phone_display(value)
    if key == "sexe":
        return {"F": "femme", "M": "homme"}.get(str(value), str(value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "strftime"):
        return fr_date(value)
    return str(value)


def local_time(moment: dt.datetime) -> str:
    """``jj/mm/aaaa hh:mm``, French local time (stored instants are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def cmd_show(args: argparse.Namespace) -> int:
    """One entry: fields, problems and history."""
    app = app_of(args)
    with app.db.sessions() as session:
        entry = _find(session, args.ref)
        print(f"{entry.ref} — {operations.status_word(entry.status)} — "
              f"{person_name(entry.nom, entry.prenom)} — inscription du {fr_date(entry.received_at)}")
        print(f"Adressé par : {entry.referrer_name or ''} <{entry.referrer_email or '?'}>")
        if entry.recontact_opt_out_at is not None:
            print(f"Recontact arrêté le {fr_date(entry.recontact_opt_out_at)} "
                  "(le patient ne souhaite plus recevoir de messages)")
        fields = entry_store.entry_fields(entry)
        for key in CANONICAL_KEYS:
            if key in fields:
                print(f"  {FRENCH_LABELS[key]:<28} {_show_value(key, fields[key])}")
        if entry.problems:
            print("À compléter :")
            for problem in entry.problems:
                print(f"  - {FRENCH_LABELS.get(problem['key'], problem['key'])} : {problem['message']}")
        proposals = proposal_lines(session, entry.id)
        if proposals:
            print("Propositions :")
            print("\n".join(proposals))
        print("Historique :")
        for event in entry.events:
            print(f"  {local_time(event.at)}  {event_text(event.kind, event.detail or {})}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The export contract of spec/referral-form.md, as JSON or CSV."""
    app = app_of(args)
    with app.db.sessions() as session:
        query = select(Entry).order_by(Entry.received_at, Entry.id)
        if args.status:
            query = query.where(Entry.status == args.status)
        found = list(session.scalars(query))
        rows = [entry_store.export_row(e) for e in found]
        buffer = io.StringIO(newline="")
        data: bytes | None = None
        if args.format == "json":
            json.dump(rows, buffer, ensure_ascii=False, indent=2)
            buffer.write("\n")
        elif args.format == "xlsx":
            data = entries_export.workbook(found)
        elif args.excel_compat:
            buffer.write(entries_export.excel_csv(found))
        else:
            _write_csv(rows, buffer)
    if data is None:
        data = buffer.getvalue().encode("utf-8")
    if not args.output:
        if args.format == "xlsx" and sys.stdout.isatty():
            raise UsageError("un classeur xlsx ne s'affiche pas : ajoutez --output liste.xlsx")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as error:
        raise UsageError(f"écriture impossible dans {args.output} : {error.strerror}") from None
    return 0


def _write_csv(rows: list[dict[str, Any]], out: Any) -> None:
    """The machine CSV (``--excel-compat non``): keys, ISO dates, true/false; cells neutralised."""
    extra = sorted({k for row in rows for k in row} - set(EXPORT_HEAD) - set(CANONICAL_KEYS))
    head = EXPORT_HEAD + list(CANONICAL_KEYS) + extra
    writer = csv.DictWriter(out, fieldnames=head, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {k: (" ".join(v) if isinstance(v, list) else
                    ("true" if v is True else "false" if v is False else v))
                for k, v in row.items()}
        writer.writerow({k: neutralise(v) for k, v in flat.items()})
