"""Recontact benchmark (issue 6): a monthly round for N waiting entries, and N patient replies.

* **Round**: N waiting entries (SQLite) are asked by the real ``recontact``
  workflow (render, token, outbox, round rows) and delivered by the real outbox
  worker through the SMTP transport (``[outbound] transport = "smtp"``) to a
  local aiosmtpd sink on 127.0.0.1 that counts and discards what it receives.
* **Baseline**, in the same run, to the same sink: render the same template
  with Jinja2, build the same MIME mail, send it with one aiosmtplib client —
  no database, no token, no outbox. Half of it runs before the round, half
  after, so that the machine's load weighs on both alike.
* **Replies**: N patient answers (texts of the labelled corpus, quoted under a
  webmail attribution, as raw mails) are parsed: MIME, readable text, quoting
  removed, ``classify_patient_reply``. A smaller sample also goes through the
  whole inbound pipeline (Maildir → database → workflow → thank-you in the
  outbox) for an end-to-end figure.
* ``decided_share`` and ``decided_precision`` come from the labelled corpus
  ``tests/data/replies/patient.jsonl``.

The last line is one JSON object.

    python benchmarks/recontact.py [--count 50000] [--pipeline 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email
import email.policy
import json
import logging
import random
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailbot.app import App  # noqa: E402
from mailbot.clock import PARIS, Clock  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402
from mailbot.inbound.pipeline import Pipeline  # noqa: E402
from mailbot.outbound.compose import as_bytes, build_mail, new_message_id  # noqa: E402
from mailbot.outbound.delivery import OutboxWorker  # noqa: E402
from mailbot.transports.factory import inbound_transport  # noqa: E402
from mailbot.transports.maildir import ensure_maildir  # noqa: E402
from mailbot.workflows.recontact_round import run_round  # noqa: E402
from parsers.mime import body_text  # noqa: E402
from parsers.replies import classify_patient_reply  # noqa: E402
from parsers.reply_metrics import corpus_metrics  # noqa: E402
from store.models import Entry, EntryStatus, OutboxMessage  # noqa: E402
from store.refs import random_code  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "replies" / "patient.jsonl"
OWN = "liste-attente@cpts-exemple.mssante.fr"
ASK = dt.datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)
PER_CONNECTION = 1000



def config_text(port: int, count: int) -> str:
    """The benchmark's configuration: the minimal one, sending over SMTP to the sink."""
    sections = merged(minimal_sections(), {
        "outbound": {"transport": "smtp", "host": "127.0.0.1", "port": port, "tls": "none",
                     "secure": False, "max_messages_per_connection": PER_CONNECTION},
        "recontact": {"max_mails_per_run": count}, "logging": {"level": "WARNING"}})
    del sections["senders"]
    sections["outbound"].pop("path")
    return render_toml(sections)


class Sink:
    """aiosmtpd handler: counts accepted mails and bytes, keeps nothing."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"


@contextmanager
def timed(figures: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    figures[name] = time.perf_counter() - start


def populate(app: App, count: int, rng: random.Random) -> None:
    """``count`` waiting entries with a personal address, registered two months ago."""
    registered = ASK - dt.timedelta(days=60)
    refs: set[str] = set()
    rows: list[dict[str, Any]] = []
    while len(refs) < count:
        refs.add("E-" + random_code(6))
    for i, ref in enumerate(sorted(refs, key=lambda _r: rng.random())):
        rows.append({
            "ref": ref, "status": EntryStatus.WAITING, "received_at": registered,
            "created_at": registered, "updated_at": registered, "status_changed_at": registered,
            "problems": [], "nom": f"NOM{i}", "prenom": "Prénom", "email": f"patient{i}@example.org",
            "ald": False, "css": False, "ame": False, "mobilite_reduite": False,
            "situation_complexe": False, "urgent": False, "priority": False,
        })
    with app.db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Entry), rows[start:start + 5000])


async def baseline(app: App, port: int, count: int) -> int:
    """Render + build + send ``count`` mails with one aiosmtplib client (no database)."""
    entry = type("E", (), {"ref": "E-7QK2M9"})()
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False)
    await smtp.connect()
    sent = 0
    for i in range(count):
        if i and i % PER_CONNECTION == 0:
            await smtp.quit()
            await smtp.connect()
        rendered = app.templates.render(
            "recontact", cpts=app.config.identity, entry=entry, registered="01/10/2026",
            token=random_code(14), reminder=False, next_step="reminder", deadline="15/12/2026")
        to = f"patient{i}@example.org"
        msg = build_mail(identity=app.config.identity, to=[to], rendered=rendered,
                         message_id=new_message_id(app.config.identity.domain), now=ASK,
                         auto_submitted="auto-generated")
        await smtp.sendmail(OWN, [to], as_bytes(msg))
        sent += 1
    await smtp.quit()
    return sent


def reply_mails(count: int, rng: random.Random) -> list[bytes]:
    """``count`` raw patient answers built from the corpus texts, quoted under our question."""
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    mails = []
    for i in range(count):
        text = rng.choice(texts)
        mails.append((
            f"From: patient{i}@example.org\r\nTo: {OWN}\r\n"
            f"Subject: RE: Êtes-vous toujours à la recherche d'un médecin traitant ? "
            f"[CPTS-R-{random_code(14)}]\r\nMessage-ID: <r{i}@example.org>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + text).encode("utf-8"))
    return mails


def parse_replies(mails: list[bytes]) -> dict[str, int]:
    answers = {"yes": 0, "no": 0, "unclear": 0}
    for raw in mails:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        answers[classify_patient_reply(body_text(msg)).answer] += 1
    return answers


def pipeline_replies(app: App, root: Path, count: int, rng: random.Random) -> tuple[int, float]:
    """Answer the first ``count`` questions through the real inbound pipeline; (handled, seconds)."""
    with app.db.sessions() as session:
        questions = session.execute(
            select(OutboxMessage.message_id, OutboxMessage.recipients)
            .where(OutboxMessage.kind == "recontact").order_by(OutboxMessage.id).limit(count)).all()
    new = root / "var" / "inbox" / "new"
    for i, (message_id, recipients) in enumerate(questions):
        body = rng.choice(["OUI", "Oui toujours", "NON", "Non merci j'ai trouvé un médecin",
                           "oui merci", "Je ne sais pas"])
        (new / f"{i:07d}.bench").write_bytes((
            f"From: {recipients[0]}\r\nTo: {OWN}\r\nSubject: RE: question\r\n"
            f"Message-ID: <p{i}@example.org>\r\nIn-Reply-To: {message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode("utf-8"))
    app.clock.frozen = ASK + dt.timedelta(days=1)
    start = time.perf_counter()
    report = asyncio.run(Pipeline(app, inbound_transport(app.config.inbound)).run_once())
    return sum(report.states.values()), time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print its figures; the last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--pipeline", type=int, default=2_000, help="replies through the pipeline")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    logging.basicConfig(level=logging.WARNING)
    figures: dict[str, float] = {}
    sink = Sink()
    with socket.socket() as probe:  # a free port for the sink
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "mailbot.toml").write_text(config_text(port, args.count))
            app = App.from_config(load_config(root / "mailbot.toml"), clock=Clock(frozen=ASK))
            app.db.migrate()
            ensure_maildir(root / "var" / "inbox")
            populate(app, args.count, rng)

            # The baseline runs in two halves, before and after the round, so that a change
            # of load on the machine during the run weighs on both figures alike.
            first_half = args.count // 2
            with timed(figures, "baseline_1"):
                baseline_sent = asyncio.run(baseline(app, port, first_half))
            with timed(figures, "enqueue"):
                report = run_round(app, ASK, limit=args.count)
            with timed(figures, "deliver"):
                delivered = asyncio.run(OutboxWorker(app).deliver_due(limit=args.count * 2))
            received = sink.messages - baseline_sent
            with timed(figures, "baseline_2"):
                baseline_sent += asyncio.run(baseline(app, port, args.count - first_half))
            figures["baseline"] = figures["baseline_1"] + figures["baseline_2"]

            mails = reply_mails(args.count, rng)
            with timed(figures, "replies"):
                answers = parse_replies(mails)
            handled, pipeline_s = pipeline_replies(app, root, args.pipeline, rng)
            app.db.dispose()
    finally:
        controller.stop()

    metrics = corpus_metrics(CORPUS)
    round_s = figures["enqueue"] + figures["deliver"]
    mails_per_s = report.asked / round_s
    baseline_per_s = baseline_sent / figures["baseline"]
    replies_per_s = args.count / figures["replies"]
    pipeline_per_s = handled / pipeline_s if pipeline_s else 0.0
    print(f"entries asked: {report.asked}, delivered: {dict(delivered)}, received by the sink: "
          f"{received}")
    print(f"round: enqueue {figures['enqueue']:.1f} s + deliver {figures['deliver']:.1f} s "
          f"→ {mails_per_s:.0f} mails/s")
    print(f"baseline render + build + aiosmtplib send: {figures['baseline']:.1f} s "
          f"→ {baseline_per_s:.0f} mails/s")
    print(f"ratio round / baseline: {mails_per_s / baseline_per_s:.3f}")
    print(f"replies parsed: {args.count} in {figures['replies']:.1f} s → {replies_per_s:.0f} "
          f"replies/s ({answers})")
    print(f"replies through the whole pipeline: {handled} in {pipeline_s:.1f} s "
          f"→ {pipeline_per_s:.0f} replies/s")
    print(f"corpus: {metrics['items']} items, decided {metrics['decided_share']:.3f}, "
          f"precision of decisions {metrics['decided_precision']:.3f}")
    print(json.dumps({
        "mails_per_s": round(mails_per_s, 1), "replies_per_s": round(replies_per_s, 1),
        "baseline_mails_per_s": round(baseline_per_s, 1),
        "ratio": round(mails_per_s / baseline_per_s, 4),
        "pipeline_replies_per_s": round(pipeline_per_s, 1),
        "decided_share": round(metrics["decided_share"], 4),
        "decided_precision": round(metrics["decided_precision"], 4),
        "count": args.count, "asked": report.asked, "received": received,
    }))


if __name__ == "__main__":
    main()
