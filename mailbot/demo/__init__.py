"""``mailbot demo``: a self-contained walk-through on Maildir + SQLite.
May import inbound, transports, config, operations (French labels), the kernel, store and parsers;
only cli imports it.

It writes a configuration, creates the database and the Maildir folders,
drops sample referral mails into the inbox, processes them, then plays the
hospital answering the "incomplete" acknowledgement, and shows what happened.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shlex
import shutil
import sys
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from mailbot.app import App
from mailbot.config import MaildirInboundConfig, load_config
from mailbot.config.minimal import minimal_sections, render_toml
from mailbot.inbound.pipeline import Pipeline
from mailbot.operations.labels import DELIVERY_WORDS, INBOUND_STATES, counts_text, status_word
from mailbot.transports.factory import inbound_transport
from mailbot.transports.maildir import ensure_maildir
from parsers.people import person_name
from parsers.referral.types import FRENCH_LABELS
from store.models import Entry, InboundMessage, OutboxMessage

# Internal reasons a demo message may end with, in words.
REASONS = {"message_id_seen": "message déjà reçu (même Message-ID)"}

CONFIG = render_toml(minimal_sections(),
                     comment="Configuration de démonstration (Maildir + SQLite), écrite par « mailbot demo ».")

COMPLETION = """\
From: Service social CH <service.social@ch-exemple.mssante.fr>
To: liste-attente@cpts-exemple.mssante.fr
Subject: RE: {subject}
Date: Wed, 04 Nov 2026 09:12:00 +0100
Message-ID: <completion-1@ch-exemple.mssante.fr>
In-Reply-To: {message_id}
References: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bonjour, voici les compléments :

Date de naissance : 13/02/1990
Code postal : 16000
Commune : Angoulême
Consentement : oui

Bien cordialement,
Service social

Le 03/11/2026 à 16:41, CPTS Exemple a écrit :
> Date de naissance : 12/03/1948
> Code postal : 16000
"""


def _drop(inbox: Path, name: str, raw: bytes) -> None:
    (inbox / "new" / name).write_bytes(raw)


def _pass(app: App, console: Console, title: str) -> None:
    pipeline = Pipeline(app, inbound_transport(app.config.inbound))
    report = asyncio.run(pipeline.run_once())
    states = counts_text(report.states, INBOUND_STATES)
    console.print(f"[bold]{title}[/bold] : {report.fetched} message(s) lu(s) ({states}) ; "
                  f"{report.delivery.get('sent', 0)} accusé(s) envoyé(s).")


def _show(app: App, console: Console, root: Path) -> None:
    with app.db.sessions() as session:
        table = Table("Message reçu", "Expéditeur", "État final", "Pourquoi", title="Messages reçus")
        for row in session.scalars(select(InboundMessage).order_by(InboundMessage.id)):
            table.add_row(str(row.message_id or "?")[:34], row.sender or "?",
                          INBOUND_STATES.get(row.state, row.state),
                          REASONS.get(row.reason or "", row.reason or ""))
        console.print(table)
        table = Table("Réf.", "État", "Patient", "À compléter", title="Liste d'attente")
        for entry in session.scalars(select(Entry).order_by(Entry.id)):
            table.add_row(entry.ref, status_word(entry.status),
                          person_name(entry.nom, entry.prenom),
                          ", ".join(dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"])
                                                  for p in entry.problems)) or "—")
        console.print(table)
        table = Table("Destinataire", "Objet", "État", title="Accusés de réception (boîte d'envoi)")
        for mail in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            subject = email.message_from_bytes(mail.raw, policy=email.policy.default)["Subject"]
            table.add_row(", ".join(mail.recipients), str(subject),
                          DELIVERY_WORDS.get(mail.state, mail.state))
        console.print(table)


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when inside it, quoted for a shell."""
    try:
        text = str(path.relative_to(Path.cwd()))
    except ValueError:
        text = str(path)
    return shlex.quote(text)


def mailbot_command() -> str:
    """How to call mailbot from here as it is installed: the virtual environment's script
    (``.venv/bin/mailbot``), else ``python -m mailbot`` with this interpreter."""
    script = Path(sys.executable).parent / "mailbot"
    if script.is_file() and os.access(script, os.X_OK):
        shown = _shown(script)
        return shown if "/" in shown else f"./{shown}"
    return f"{shlex.quote(sys.executable)} -m mailbot"


def activate_hint() -> str:
    """How to type just ``mailbot``: activate the virtual environment (when there is one)."""
    activate = Path(sys.executable).parent / "activate"
    if not activate.is_file():
        return ""
    return (f"Pour taper simplement « mailbot … » : source {_shown(activate)} "
            "(dans ce terminal).")


def next_commands(config_file: Path, ref: str) -> list[str]:
    """The commands the demo suggests, exactly as they can be pasted."""
    base = f"{mailbot_command()} --config {_shown(config_file)}"
    return [f"{base} entries list", f"{base} entries show {ref}",
            f"{base} entries export --format csv --output liste.csv",
            f"{base} entries list --status \"en attente\"", f"{base} --help"]


def run_demo(folder: str) -> int:
    """Run the walk-through in ``folder``; return the exit code."""
    console = Console()
    root = Path(folder).resolve()
    if root.exists():
        shutil.rmtree(root / "var", ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    config_file = root / "mailbot.toml"
    config_file.write_text(CONFIG, encoding="utf-8")
    config = load_config(config_file)
    app = App.from_config(config)
    app.db.migrate()
    assert isinstance(config.inbound, MaildirInboundConfig)
    inbox = config.inbound.path
    ensure_maildir(inbox)
    ensure_maildir(root / "var" / "outbox")
    console.print(f"Démonstration dans [bold]{root}[/bold] (configuration : {config_file}).")

    samples = sorted((p for p in resources.files("mailbot.demo").iterdir() if p.name.endswith(".eml")),
                     key=lambda p: p.name)
    for sample in samples:
        _drop(inbox, sample.name, sample.read_bytes())
    console.print(f"{len(samples)} messages d'exemple déposés dans {inbox / 'new'} : fiche complète, "
                  "fiche incomplète, même patiente par un autre partenaire, renvoi identique, "
                  "réponse automatique, expéditeur inconnu.")
    _pass(app, console, "Premier passage")

    with app.db.sessions() as session:
        ack = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ack_incomplete")).first()
    if ack is not None:
        parsed = email.message_from_bytes(ack.raw, policy=email.policy.default)
        reply = COMPLETION.format(subject=parsed["Subject"], message_id=ack.message_id)
        _drop(inbox, "07-hopital-complement.eml", reply.encode("utf-8"))
        console.print("L'hôpital répond à l'accusé « fiche incomplète » avec les lignes manquantes.")
        _pass(app, console, "Second passage")

    _show(app, console, root)
    with app.db.sessions() as session:
        ref = session.scalars(select(Entry.ref).order_by(Entry.id)).first() or "E-XXXXXX"
    console.print(
        f"\nÀ regarder :\n"
        f"  - les accusés envoyés, un fichier par message : {root / 'var' / 'outbox' / 'new'}\n"
        f"  - la boîte de réception traitée : {inbox / 'cur'} (quarantaine : {inbox / '.Quarantine'})",
        soft_wrap=True)
    # Plain print, never wrapped: each command works when pasted as it is.
    print("\n".join(["", "Commandes à essayer (copier-coller) :",
                      *(f"  {line}" for line in next_commands(config_file, ref))]))
    hint = activate_hint()
    if hint:
        print(hint)
    app.db.dispose()
    return 0
