"""Recontact benchmark (issues 6 and 14): a monthly round, patient and GP replies, intake.

Measured in one run, on one SQLite database, against the **intake** of
referral mails (issue 14: replies and rounds at least 0.5 of intake):

* **Intake**: referral mails (``benchmarks/mailgen.py``) through the real
  inbound pipeline (Maildir → raw stored → classified → parsed → entry
  registered → acknowledgement in the outbox); half before everything else,
  half at the end, so that the machine's load weighs on both sides alike.
* **Round**: N waiting entries asked by the real ``recontact`` workflow
  (render, token, outbox, round rows) — ``round_enqueue_per_s`` — then
  delivered by the real outbox worker through the SMTP transport to a local
  aiosmtpd sink that counts and discards (``mails_per_s``, enqueue and delivery).
* **Baseline** of the round (issue 6), to the same sink: render the same
  template, build the same MIME mail, send it with one aiosmtplib client — no
  database. Half before the round, half after.
* **Patient replies** to the round's questions through the same pipeline
  (token found, answer read, entry confirmed or resolved, thank-you in the
  outbox) — ``pipeline_replies_per_s``.
* **GP replies** (OUI / NON) to proposals of a real proposal round, through the
  same pipeline (OUI: entry matched, contact to both sides; NON: entry back to
  waiting, coordinators told, the GP's slot offered again) —
  ``pipeline_gp_replies_per_s``.
* **Parsing only**: N patient answers (corpus texts under a quoted question)
  parsed and classified, no database (``replies_per_s``);
  ``decided_share`` / ``decided_precision`` from ``tests/data/replies/patient.jsonl``.

The last line is one JSON object.

    python benchmarks/recontact.py [--count 10000] [--pipeline 2000] [--small] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import email
import email.policy
import json
import logging
import os
import pstats
import random
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.reply_flow import (  # noqa: E402
    ASK,
    OWN,
    add_gps,
    gp_replies,
    patient_replies,
    populate,
    referrals,
    through_pipeline,
)
from mailbot.app import App  # noqa: E402
from mailbot.clock import Clock  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402
from mailbot.matching.round import run_round as proposal_round  # noqa: E402
from mailbot.outbound.compose import as_bytes, build_mail, new_message_id  # noqa: E402
from mailbot.outbound.delivery import OutboxWorker  # noqa: E402
from mailbot.transports.maildir import ensure_maildir  # noqa: E402
from mailbot.workflows.recontact_round import run_round  # noqa: E402
from parsers.mime import body_text  # noqa: E402
from parsers.replies import classify_patient_reply  # noqa: E402
from parsers.reply_metrics import corpus_metrics  # noqa: E402
from store.refs import random_code  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "replies" / "patient.jsonl"
PER_CONNECTION = 1000



def config_text(port: int, count: int) -> str:
    """The benchmark's configuration: the minimal one (the demo's partners send the
    referrals), sending over SMTP to the sink; no hourly cap (throughput is measured)."""
    sections = merged(minimal_sections(), {
        "outbound": {"transport": "smtp", "host": "127.0.0.1", "port": port, "tls": "none",
                     "secure": False, "max_messages_per_connection": PER_CONNECTION},
        "limits": {"replies_per_partner_per_hour": 1_000_000,
                   "replies_per_sender_per_hour": 1_000_000},
        "recontact": {"max_mails_per_run": count}, "logging": {"level": "WARNING"}})
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


def parse_replies(mails: list[bytes]) -> Counter[str]:
    answers: Counter[str] = Counter()
    for raw in mails:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        answers[classify_patient_reply(body_text(msg)).answer] += 1
    return answers


def _profile_top(profile: cProfile.Profile, name: str) -> None:
    """The project's 40 costliest functions (cumulative); the whole profile in a file."""
    path = Path(tempfile.gettempdir()) / f"recontact_{name}.prof"
    profile.dump_stats(path)
    print(f"--- profile: {name} replies (cumulative, project code, top 40; all in {path})")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(r"(mailbot|store|parsers)/", 40)


def measure(args: argparse.Namespace, port: int, sink: Sink, root: Path) -> dict[str, Any]:
    """Every measure of one run (see the module docstring); the figures and counts."""
    rng = random.Random(args.seed)
    figures: dict[str, float] = {}
    counts: dict[str, Any] = {}
    profiles = {name: cProfile.Profile() for name in ("patient", "gp")} if args.profile else {}
    (root / "mailbot.toml").write_text(config_text(port, args.count))
    app = App.from_config(load_config(root / "mailbot.toml"), clock=Clock(frozen=ASK))
    app.db.migrate()
    ensure_maildir(root / "var" / "inbox")
    populate(app, args.count, rng)
    add_gps(app, args.gp_replies // 2 + 1, open_proposals=2)
    half = args.pipeline // 2
    # Warm-up, not measured: the first mails of a process pay for imports and templates.
    through_pipeline(app, root, "w", referrals(random.Random(0), 20, 10_000_000))

    intake_1, figures["intake_1"], figures["intake_1_cpu"] = through_pipeline(
        app, root, "i", referrals(rng, half, 0))
    # The baseline runs in two halves, before and after the round, so that a change
    # of load on the machine during the run weighs on both figures alike.
    first_half = args.count // 2
    with timed(figures, "baseline_1"):
        baseline_sent = asyncio.run(baseline(app, port, first_half))
    before = sink.messages
    cpu = time.process_time()
    with timed(figures, "enqueue"):
        report = run_round(app, ASK, limit=args.count)
    figures["enqueue_cpu"] = time.process_time() - cpu
    with timed(figures, "deliver"):
        counts["delivered"] = dict(asyncio.run(
            OutboxWorker(app).deliver_due(limit=args.count * 2)))
    counts["received"] = sink.messages - before
    with timed(figures, "baseline_2"):
        baseline_sent += asyncio.run(baseline(app, port, args.count - first_half))
    figures["baseline"] = figures["baseline_1"] + figures["baseline_2"]
    counts["asked"], counts["baseline_sent"] = report.asked, baseline_sent

    app.clock.frozen = ASK + dt.timedelta(days=1)
    states, figures["patient_replies"], figures["patient_replies_cpu"] = through_pipeline(
        app, root, "p", patient_replies(app, args.pipeline, rng), profiles.get("patient"))
    counts["patient_replies"], counts["patient_states"] = states.total(), dict(states)
    counts["proposals"] = proposal_round(app, app.clock.now()).proposals
    states, figures["gp_replies"], figures["gp_replies_cpu"] = through_pipeline(
        app, root, "g", gp_replies(app, args.gp_replies, rng), profiles.get("gp"))
    counts["gp_replies"], counts["gp_states"] = states.total(), dict(states)
    asyncio.run(OutboxWorker(app).deliver_due(limit=10 * args.pipeline))  # not measured

    app.clock.frozen = ASK + dt.timedelta(days=2)
    intake_2, figures["intake_2"], figures["intake_2_cpu"] = through_pipeline(
        app, root, "j", referrals(rng, args.pipeline - half, half))
    counts["intake_states"] = dict(intake_1 + intake_2)
    counts["intake"] = (intake_1 + intake_2).total()
    figures["intake"] = figures["intake_1"] + figures["intake_2"]
    figures["intake_cpu"] = figures["intake_1_cpu"] + figures["intake_2_cpu"]
    app.db.dispose()

    mails = reply_mails(args.count, rng)
    with timed(figures, "replies"):
        counts["answers"] = dict(parse_replies(mails))
    for name, profile in profiles.items():
        _profile_top(profile, name)
    return {"figures": figures, "counts": counts}


def main() -> None:
    """Run the benchmark and print its figures; the last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="entries asked by the round")
    parser.add_argument("--pipeline", type=int, default=2_000,
                        help="referrals (intake) and patient replies through the pipeline")
    parser.add_argument("--gp-replies", type=int, default=None,
                        help="GP replies through the pipeline (default: --pipeline)")
    parser.add_argument("--small", action="store_true",
                        help="a quick run: 1 000 entries, 400 mails of each kind")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile summary of the patient and the GP replies")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.small:
        args.count, args.pipeline = 1000, 400
    if args.gp_replies is None:
        args.gp_replies = args.pipeline
    logging.basicConfig(level=logging.WARNING)
    # Mails with health data (acknowledgements, proposals) are refused on the sink's plain
    # route, one error line each: expected here, and outside every measure.
    logging.getLogger("mailbot.outbound.delivery").setLevel(logging.CRITICAL)
    load_avg = os.getloadavg()[0]
    sink = Sink()
    with socket.socket() as probe:  # a free port for the sink
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = measure(args, port, sink, Path(tmp))
    finally:
        controller.stop()
    report(args, run["figures"], run["counts"], load_avg)


def _rate(count: float, seconds: float) -> float:
    return count / seconds if seconds else 0.0


def report(args: argparse.Namespace, figures: dict[str, float], counts: dict[str, Any],
           load_avg: float) -> None:
    """Print the figures; the last line is one JSON object."""
    metrics = corpus_metrics(CORPUS)
    mails_per_s = _rate(counts["asked"], figures["enqueue"] + figures["deliver"])
    baseline_per_s = _rate(counts["baseline_sent"], figures["baseline"])
    intake = _rate(counts["intake"], figures["intake"])
    patient = _rate(counts["patient_replies"], figures["patient_replies"])
    gp = _rate(counts["gp_replies"], figures["gp_replies"])
    enqueue = _rate(counts["asked"], figures["enqueue"])
    cpu = {name: _rate(counts[key], figures[f"{name}_cpu"]) for name, key in (
        ("intake", "intake"), ("patient_replies", "patient_replies"),
        ("gp_replies", "gp_replies"), ("enqueue", "asked"))}  # per CPU second
    print(f"intake (referrals through the pipeline): {counts['intake']} in "
          f"{figures['intake']:.1f} s → {intake:.0f} mails/s {counts['intake_states']}")
    print(f"patient replies through the pipeline: {counts['patient_replies']} in "
          f"{figures['patient_replies']:.1f} s → {patient:.0f} replies/s "
          f"({patient / intake:.2f} of intake) {counts['patient_states']}")
    print(f"GP replies through the pipeline: {counts['gp_replies']} in "
          f"{figures['gp_replies']:.1f} s → {gp:.0f} replies/s ({gp / intake:.2f} of intake; "
          f"{counts['proposals']} proposals made before) {counts['gp_states']}")
    print(f"round: {counts['asked']} asked; enqueue {figures['enqueue']:.1f} s → {enqueue:.0f} "
          f"questions/s ({enqueue / intake:.2f} of intake); deliver {figures['deliver']:.1f} s "
          f"({counts['delivered']}, {counts['received']} received by the sink) → "
          f"{mails_per_s:.0f} mails/s")
    print("per CPU second of this process: " + ", ".join(
        f"{name} {rate:.0f}" for name, rate in cpu.items()))
    print(f"baseline render + build + aiosmtplib send: {figures['baseline']:.1f} s "
          f"→ {baseline_per_s:.0f} mails/s; ratio round / baseline "
          f"{_rate(mails_per_s, baseline_per_s):.3f}")
    replies_per_s = _rate(args.count, figures["replies"])
    print(f"replies parsed: {args.count} in {figures['replies']:.1f} s → {replies_per_s:.0f} "
          f"replies/s ({counts['answers']})")
    print(f"corpus: {metrics['items']} items, decided {metrics['decided_share']:.3f}, "
          f"precision of decisions {metrics['decided_precision']:.3f}")
    print(json.dumps({
        "pipeline_replies_per_s": round(patient, 1), "intake_mails_per_s": round(intake, 1),
        "pipeline_gp_replies_per_s": round(gp, 1), "round_enqueue_per_s": round(enqueue, 1),
        "replies_over_intake": round(_rate(patient, intake), 3),
        "gp_replies_over_intake": round(_rate(gp, intake), 3),
        "round_over_intake": round(_rate(enqueue, intake), 3),
        "replies_over_intake_cpu": round(_rate(cpu["patient_replies"], cpu["intake"]), 3),
        "gp_replies_over_intake_cpu": round(_rate(cpu["gp_replies"], cpu["intake"]), 3),
        "round_over_intake_cpu": round(_rate(cpu["enqueue"], cpu["intake"]), 3),
        "mails_per_s": round(mails_per_s, 1), "replies_per_s": round(replies_per_s, 1),
        "baseline_mails_per_s": round(baseline_per_s, 1),
        "ratio": round(_rate(mails_per_s, baseline_per_s), 4),
        "decided_share": round(metrics["decided_share"], 4),
        "decided_precision": round(metrics["decided_precision"], 4),
        "count": args.count, "asked": counts["asked"], "received": counts["received"],
        "intake": counts["intake"], "patient_replies": counts["patient_replies"],
        "gp_replies": counts["gp_replies"], "load_avg": round(load_avg, 2),
    }))


if __name__ == "__main__":
    main()
