"""``mailbot gps list|show|add|set|pause|resume|import FILE.csv``: the volunteer GPs."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot import operations
from mailbot.app import App
from mailbot.cli.common import app_of
from mailbot.errors import NotFoundError, UsageError
from mailbot.matching.fairness import fairness_report
from mailbot.matching.gp_fields import FIELDS, GPValues, header_key, read_gp
from mailbot.matching.round import gp_usage
from store import gps
from store.models_matching import GP, GPEvent

ACTOR = "cli"

# key → (option, help)
OPTIONS: dict[str, tuple[str, str]] = {
    "nom": ("--nom", "nom du médecin"),
    "prenom": ("--prenom", "prénom"),
    "email": ("--email", "adresse MSSanté (…@….mssante.fr)"),
    "cabinet": ("--cabinet", "nom du cabinet ou de la maison de santé"),
    "adresse": ("--adresse", "adresse du cabinet (donnée au patient)"),
    "telephone": ("--telephone", "téléphone du cabinet (donné au patient)"),
    "codes_postaux": ("--cp", "codes postaux servis en entier, ex. \"16000 16100\""),
    "communes": ("--communes", "communes servies, code postal puis nom, séparées par ; "
                               "ex. \"16290 Hiersac; 16400 La Couronne\""),
    "accepte": ("--accepte", "accepte de nouveaux patients : oui / non"),
    "capacite": ("--capacite", "nouveaux patients par mois au plus"),
    "max_propositions": ("--max-propositions", "propositions en attente de réponse au plus"),
    "ages": ("--ages", "tranches d'âge acceptées : 0-5, 6-17, 18-69, 70+ (ou tous, enfants, adultes)"),
    "ald": ("--ald", "accepte les patients en ALD : oui / non"),
    "complexe": ("--complexe", "accepte les situations complexes : oui / non"),
    "visites": ("--visites", "fait des visites à domicile : oui / non"),
}


def _add_fields(parser: argparse.ArgumentParser) -> None:
    for key, (option, text) in OPTIONS.items():
        parser.add_argument(option, dest=key, metavar="VALEUR", help=text)


def register(sub: Any) -> None:
    """Add ``gps`` and its actions."""
    p = sub.add_parser("gps", help="médecins volontaires : liste, inscription, pause, import")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("list", help="lister les médecins")
    a.add_argument("--format", choices=["text", "json"], default="text",
                   help="text (tableau, défaut) ou json")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("show", help="un médecin en détail, avec son historique")
    a.add_argument("rpps", metavar="RPPS", help="numéro RPPS du médecin (11 chiffres)")
    a.set_defaults(handler=cmd_show)
    a = actions.add_parser("add", help="inscrire un médecin")
    a.add_argument("--rpps", required=True, help="numéro RPPS (11 chiffres)")
    _add_fields(a)
    a.set_defaults(handler=cmd_add)
    a = actions.add_parser("set", help="modifier un médecin (--cp et --communes remplacent "
                                       "ensemble la liste des lieux servis)")
    a.add_argument("rpps", metavar="RPPS", help="numéro RPPS du médecin (11 chiffres)")
    _add_fields(a)
    a.set_defaults(handler=cmd_set)
    for name, text, handler in (("pause", "suspendre les propositions à un médecin", cmd_pause),
                                ("resume", "reprendre les propositions à un médecin", cmd_resume)):
        a = actions.add_parser(name, help=text)
        a.add_argument("rpps", metavar="RPPS", help="numéro RPPS du médecin (11 chiffres)")
        a.set_defaults(handler=handler)
    a = actions.add_parser("fairness", help="équité : attente par groupe de priorité")
    a.add_argument("--format", choices=["text", "json"], default="text",
                   help="text (tableau, défaut) ou json")
    a.set_defaults(handler=cmd_fairness)
    a = actions.add_parser("import", help="inscrire ou mettre à jour des médecins depuis un CSV")
    a.add_argument("file", help="fichier CSV (séparateur ; ou ,), une ligne par médecin ; "
                                "colonnes : " + ", ".join(FIELDS))
    a.add_argument("--dry-run", action="store_true", help="vérifier sans rien enregistrer")
    a.set_defaults(handler=cmd_import)


def _raw(args: argparse.Namespace) -> dict[str, str | None]:
    return {key: getattr(args, key, None) for key in FIELDS}


def _find(session: Session, rpps: str) -> GP:
    gp = gps.get_by_rpps(session, rpps)
    if gp is None:
        raise NotFoundError(f"aucun médecin inscrit avec le RPPS {rpps}")
    return gp


def _values(raw: dict[str, str | None], *, creating: bool) -> GPValues:
    result = read_gp(raw, creating=creating)
    if isinstance(result, list):
        raise UsageError("données invalides :\n  - " + "\n  - ".join(result))
    return result


def _defaults(app: App) -> dict[str, Any]:
    cfg = app.config.matching
    return {"capacity_per_month": cfg.default_capacity_per_month,
            "max_open_proposals": cfg.default_max_open_proposals}


def _email_taken(session: Session, email: str | None, rpps: str | None) -> bool:
    other = gps.get_by_email(session, email) if email else None
    return other is not None and other.rpps != rpps


def cmd_add(args: argparse.Namespace) -> int:
    """Register one GP."""
    app = app_of(args)
    clean = _values(_raw(args), creating=True)
    now = app.clock.now()
    with app.db.transaction() as session:
        if gps.get_by_rpps(session, clean.rpps or ""):
            raise UsageError(f"le RPPS {clean.rpps} est déjà inscrit (mailbot gps set pour modifier)")
        if _email_taken(session, clean.values.get("email"), clean.rpps):
            raise UsageError(f"l'adresse {clean.values['email']} est déjà celle d'un autre médecin")
        gp = gps.create_gp(session, rpps=clean.rpps or "", values={**_defaults(app), **clean.values},
                           areas=clean.areas or [], now=now, actor=ACTOR)
        print(f"Médecin inscrit : {gp.display_name} (RPPS {gp.rpps}).")
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    """Change some of a GP's values."""
    app = app_of(args)
    raw = _raw(args)
    raw["rpps"] = None
    clean = _values(raw, creating=False)
    with app.db.transaction() as session:
        gp = _find(session, args.rpps)
        if _email_taken(session, clean.values.get("email"), gp.rpps):
            raise UsageError(f"l'adresse {clean.values['email']} est déjà celle d'un autre médecin")
        changed = gps.update_gp(session, gp, values=clean.values, areas=clean.areas,
                                now=app.clock.now(), actor=ACTOR)
        print(f"{gp.display_name} : " + (", ".join(changed) + " modifié(s)." if changed
                                          else "rien à changer."))
    return 0


def _set_accepting(args: argparse.Namespace, accepting: bool) -> int:
    """The operation of ``PAUSE``/``REPRISE`` by mail (audited as ``cli:<user>``)."""
    from mailbot.cli.entries import cli_actor

    app = app_of(args)
    with app.db.transaction() as session:
        ctx = operations.OpContext(app, session, cli_actor(), app.clock.now())
        gp, changed = operations.change_gp_accepting(ctx, args.rpps, accepting)
        state = "reçoit des propositions" if accepting else "est en pause"
        print(f"{gp.display_name} {state}" + ("." if changed else " (déjà le cas)."))
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    """Stop proposals to a GP."""
    return _set_accepting(args, False)


def cmd_resume(args: argparse.Namespace) -> int:
    """Proposals to a GP again."""
    return _set_accepting(args, True)


def describe(app: App, session: Session, gp: GP) -> dict[str, Any]:
    """A GP as ``gps list --format json`` shows him."""
    use = gp_usage(app, session, gp, app.clock.now())
    return {
        "rpps": gp.rpps, "nom": gp.nom, "prenom": gp.prenom, "email": gp.email,
        "cabinet": gp.cabinet, "adresse": gp.adresse, "telephone": gp.telephone,
        "areas": gps.area_labels(gp), "accepting": gp.accepting,
        "capacity_per_month": gp.capacity_per_month, "max_open_proposals": gp.max_open_proposals,
        "age_bands": list(gp.age_bands or []), "accepts_ald": gp.accepts_ald,
        "accepts_complex": gp.accepts_complex, "home_visits": gp.home_visits,
        "pending": use.pending, "accepted_this_month": use.accepted_this_month,
    }


def _yes(value: bool) -> str:
    return "oui" if value else "non"


def cmd_list(args: argparse.Namespace) -> int:
    """Every GP, with his availability and this month's load."""
    app = app_of(args)
    with app.db.sessions() as session:
        rows = [describe(app, session, gp) for gp in gps.list_gps(session)]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = Table("RPPS", "Médecin", "Secteur", "Dispo", "Capacité/mois", "Ce mois",
                  "Âges", "ALD", "Complexe", "Visites")
    for row in rows:
        table.add_row(row["rpps"], " ".join(x for x in (row["prenom"], row["nom"]) if x),
                      ", ".join(row["areas"]), _yes(row["accepting"]),
                      str(row["capacity_per_month"]),
                      f"{row['accepted_this_month']} accepté(s), {row['pending']} en cours",
                      ", ".join(row["age_bands"]) or "tous", _yes(row["accepts_ald"]),
                      _yes(row["accepts_complex"]), _yes(row["home_visits"]))
    Console(width=200).print(table)
    print(f"{len(rows)} médecin(s), dont {sum(r['accepting'] for r in rows)} disponible(s).")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """One GP: settings, this month's load and history."""
    app = app_of(args)
    with app.db.sessions() as session:
        gp = _find(session, args.rpps)
        for key, value in describe(app, session, gp).items():
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"  {key:<22} {shown if shown not in (None, '') else '—'}")
        print("Historique :")
        for event in session.scalars(select(GPEvent).where(GPEvent.gp_id == gp.id)
                                     .order_by(GPEvent.id)):
            print(f"  {event.at.strftime('%d/%m/%Y %H:%M')} {event.kind} ({event.actor}) "
                  + ", ".join(f"{k}={v}" for k, v in event.detail.items()))
    return 0


def cmd_fairness(args: argparse.Namespace) -> int:
    """Waiting time by priority group under the configured policy."""
    app = app_of(args)
    with app.db.sessions() as session:
        report = fairness_report(session, app.config.matching, app.clock.now())
    if args.format == "json":
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.as_text())
    return 0


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"lecture impossible de {path} : {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise UsageError(f"{path} est vide")
    keys = [header_key(h) for h in rows[0]]
    if "rpps" not in keys:
        raise UsageError(f"{path} : pas de colonne RPPS dans l'en-tête (colonnes reconnues : "
                         + ", ".join(FIELDS) + ")")
    return [{k: v for k, v in zip(keys, row, strict=False) if k} for row in rows[1:]
            if any(cell.strip() for cell in row)]


def cmd_import(args: argparse.Namespace) -> int:
    """Register or update GPs from a CSV; every row is checked, rejected rows are listed."""
    app = app_of(args)
    rows = _read_csv(Path(args.file))
    rejected: list[str] = []
    try:
        created, updated = _import_rows(app, rows, rejected, dry_run=args.dry_run)
    except _DryRun as done:
        created, updated = done.created, done.updated
    verb = "seraient" if args.dry_run else "ont été"
    print(f"{len(rows)} ligne(s) lue(s) : {created} médecin(s) {verb} inscrit(s), "
          f"{updated} mis à jour, {len(rejected)} ligne(s) refusée(s).")
    for reason in rejected:
        print(f"  - {reason}")
    return 1 if rejected else 0


class _DryRun(Exception):
    """Raised to roll an import back after checking it (``--dry-run``)."""

    def __init__(self, created: int, updated: int) -> None:
        super().__init__("dry run")
        self.created = created
        self.updated = updated


def _import_rows(app: App, rows: list[dict[str, str]], rejected: list[str], *,
                 dry_run: bool) -> tuple[int, int]:
    """Write the valid rows in one transaction; append a line per rejected row."""
    now = app.clock.now()
    created = updated = 0
    with app.db.transaction() as session:
        seen: dict[str, int] = {}
        for line, raw in enumerate(rows, start=2):
            existing = gps.get_by_rpps(session, "".join((raw.get("rpps") or "").split()))
            result = read_gp(raw, creating=existing is None)
            if isinstance(result, list):
                rejected.append(f"ligne {line} : " + " ; ".join(result))
                continue
            rpps = result.rpps or ""
            if rpps in seen:
                rejected.append(f"ligne {line} : RPPS {rpps} déjà présent ligne {seen[rpps]}")
                continue
            if _email_taken(session, result.values.get("email"), rpps):
                rejected.append(f"ligne {line} : l'adresse {result.values['email']} est déjà "
                                "celle d'un autre médecin")
                continue
            seen[rpps] = line
            if existing is None:
                gps.create_gp(session, rpps=rpps, values={**_defaults(app), **result.values},
                              areas=result.areas or [], now=now, actor=f"{ACTOR}:import")
                created += 1
            elif gps.update_gp(session, existing, values=result.values, areas=result.areas,
                               now=now, actor=f"{ACTOR}:import"):
                updated += 1
            session.flush()
        if dry_run:
            raise _DryRun(created, updated)
    return created, updated
