"""IMAP/SMTP benchmark (issue 4): the bot's ingest and outbox against raw client loops.

Real servers from ``tests/servers``: Dovecot over implicit TLS (the bot logs in
with its client certificate, SASL EXTERNAL) and the aiosmtpd server requiring a
client certificate, run in a child process so that it does not share the
benchmark's interpreter lock. In one run:

1. ``--count`` referral mails (``benchmarks/mailgen.py``) are delivered to the inbox;
2. baseline: one raw aioimaplib ``UID FETCH 1:* (BODY.PEEK[])`` of that mailbox;
3. the bot's ingest end to end, in-process with the daemon's pass size: fetch,
   store raw, classify, parse, register, enqueue the acknowledgement, commit,
   then flag and MOVE each mail to the processed folder;
4. the bot's IMAP stage alone on a copy of the mails in another folder: fetch, raw bytes
   committed (``Pipeline.store``), flag + MOVE, no processing; against raw aioimaplib
   ``UID FETCH`` + ``UID MOVE`` by passes of the same size on a third copy
   (``imap_stage_ratio``, target ≥ 0.6);
5. the same bot end to end over Maildir on the same mails, in a fresh database
   (``transport_overhead_ratio`` = IMAP end to end / Maildir end to end, target ≥ 0.8);
6. baseline: a raw aiosmtplib loop sending the acknowledgements on one connection;
7. the bot's outbox worker sending the same acknowledgements (routes, claims,
   per-recipient report, state committed);
8. the real daemon (``mailbot run``) waiting in IDLE: time from a new mail in the
   inbox to its acknowledgement accepted by the SMTP server.

Prints figures and ratios; the last line is one JSON object (``ingest_ratio``, the whole
pipeline against a raw FETCH, is kept for continuity).

    python benchmarks/imap_smtp.py [--count 2000] [--seed 1] [--idle-samples 5]
                                   [--database-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import multiprocessing
import os
import pstats
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aioimaplib  # noqa: E402
import aiosmtplib  # noqa: E402

from benchmarks.imap_bot import (  # noqa: E402
    bot_ingest,
    fresh_database,
    imap_stage,
    pending_mails,
    write_config,
    write_maildir_config,
)
from benchmarks.mailgen import referral_mail  # noqa: E402
from mailbot.app import App  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.daemon.loop import INBOUND_PASS  # noqa: E402
from mailbot.outbound.delivery import OutboxWorker  # noqa: E402
from mailbot.transports.tls import client_context  # noqa: E402
from tests.servers.dovecot import DovecotServer  # noqa: E402
from tests.servers.pki import Pki, make_pki  # noqa: E402

# -- the SMTP server, in a child process ---------------------------------------------------------


def _smtp_child(pki: Pki, conn: Connection) -> None:
    """Serve SMTP (implicit TLS and STARTTLS, client certificate required) until told to stop."""
    sys.path.insert(0, str(ROOT))
    from tests.servers.smtp import SmtpServer

    server = SmtpServer(pki, require_client_cert=True)
    server.start()
    conn.send((server.tls_port, server.starttls_port))
    while True:
        command = conn.recv()
        if command == "count":
            conn.send(len(server.messages))
        elif command == "reset":
            server.handler.reset()
            conn.send(0)
        else:
            server.stop()
            conn.send(0)
            return


class SmtpChild:
    """Handle on the child process's SMTP server."""

    def __init__(self, pki: Pki) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_smtp_child, args=(pki, child), daemon=True)
        self.process.start()
        self.tls_port, self.starttls_port = self.conn.recv()

    def ask(self, command: str) -> int:
        """Send a command (``count``, ``reset``, ``stop``) and return the answer."""
        self.conn.send(command)
        return int(self.conn.recv())

    def stop(self) -> None:
        """Stop the server and the child process."""
        self.ask("stop")
        self.process.join(10)


# -- baselines -------------------------------------------------------------------------------------


async def raw_fetch(dovecot: DovecotServer, pki: Pki, folder: str = "INBOX", *,
                    by: int | None = None) -> tuple[int, int]:
    """Raw aioimaplib: ``UID FETCH 1:* (BODY.PEEK[])`` in one command, or (``by``) UID SEARCH
    then one FETCH per ``by`` UIDs; return (messages, bytes)."""
    context = client_context(_Tls(pki))
    client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context,
                                  timeout=300)
    await client.wait_hello_from_server()
    await client.login(dovecot.user, dovecot.password)
    await client.select(folder)
    if by is None:
        sets = ["1:*"]
    else:
        found = await client.uid_search("ALL")
        uids = [token for line in found.lines[:-1] for token in line.split() if token.isdigit()]
        sets = [b",".join(uids[i:i + by]).decode() for i in range(0, len(uids), by)]
    literals: list[bytearray] = []
    for uid_set in sets:
        response = await client.uid("fetch", uid_set, "(BODY.PEEK[])")
        literals += [line for line in response.lines if isinstance(line, bytearray)]
    await client.logout()
    return len(literals), sum(len(literal) for literal in literals)


async def raw_fetch_move(dovecot: DovecotServer, pki: Pki, folder: str, target: str,
                         by: int) -> int:
    """Raw aioimaplib, as a client that only fetches and moves: UID SEARCH, then per ``by``
    UIDs one ``UID FETCH (BODY.PEEK[])`` and one ``UID MOVE`` to ``target``; return mails."""
    context = client_context(_Tls(pki))
    client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context,
                                  timeout=300)
    await client.wait_hello_from_server()
    await client.login(dovecot.user, dovecot.password)
    await client.create(target)
    await client.select(folder)
    found = await client.uid_search("ALL")
    uids = [token for line in found.lines[:-1] for token in line.split() if token.isdigit()]
    done = 0
    for i in range(0, len(uids), by):
        uid_set = b",".join(uids[i:i + by]).decode()
        response = await client.uid("fetch", uid_set, "(BODY.PEEK[])")
        done += sum(1 for line in response.lines if isinstance(line, bytearray))
        moved = await client.uid("move", uid_set, target)
        assert moved.result == "OK", moved
    await client.logout()
    return done


async def raw_send(port: int, pki: Pki, mails: list[tuple[str, list[str], bytes]]) -> int:
    """Send ``mails`` on one raw aiosmtplib connection (same TLS and SASL EXTERNAL)."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=True,
                           tls_context=client_context(_Tls(pki)))
    await smtp.connect()
    await smtp.execute_command(b"AUTH", b"EXTERNAL", b"=")
    for sender, recipients, raw in mails:
        await smtp.sendmail(sender, recipients, raw)
    await smtp.quit()
    return len(mails)


class _Tls:
    """TLS settings of the raw clients: the bot's certificate and authority."""

    def __init__(self, pki: Pki) -> None:
        self.host = "127.0.0.1"
        self.client_cert: Path | None = pki.client_cert
        self.client_key: Path | None = pki.client_key
        self.client_key_password: str | None = None
        self.ca_file: Path | None = pki.ca_cert
        self.insecure = False


# -- the bot ---------------------------------------------------------------------------------------


def idle_latency(config: Path, dovecot: DovecotServer, smtp: SmtpChild, samples: int,
                 rng: random.Random, first_index: int) -> list[float]:
    """Seconds from a new mail in the inbox to its acknowledgement, the daemon in IDLE."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = config.parent / "daemon.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "mailbot", "--config", str(config), "run"],
                                stdout=subprocess.DEVNULL, stderr=handle, env=env)
    latencies = []
    try:
        time.sleep(4.0)  # started, connected, nothing left to do: waiting in IDLE
        for index in range(first_index, first_index + samples):
            before = smtp.ask("count")
            started = time.perf_counter()
            dovecot.deliver(referral_mail(rng, index))
            while smtp.ask("count") == before:
                if time.perf_counter() - started > 30 or proc.poll() is not None:
                    raise SystemExit("no acknowledgement in 30 s:\n" + log.read_text()[-3000:])
                time.sleep(0.005)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return latencies


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--idle-samples", type=int, default=5)
    parser.add_argument("--database-url", default=None,
                        help="default: a SQLite file in the temporary folder")
    parser.add_argument("--profile", action="store_true", help="print the ingest's hot spots")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-imap-smtp-") as tmp:
        root = Path(tmp)
        pki = make_pki(root / "pki")
        smtp = SmtpChild(pki)
        dovecot = DovecotServer(pki)
        dovecot.start()
        try:
            results = run(args, rng, root, pki, dovecot, smtp)
        finally:
            dovecot.cleanup(fast=True)
            smtp.stop()
    print(json.dumps(results))


def run(args: argparse.Namespace, rng: random.Random, root: Path, pki: Pki,
        dovecot: DovecotServer, smtp: SmtpChild) -> dict[str, Any]:
    """The measurements; returns the JSON summary."""
    count = args.count
    database = args.database_url or f"sqlite:///{root / 'mailbot.db'}"
    mails = [referral_mail(rng, i) for i in range(count)]
    maildir_root = root / "maildir-inbox"
    for sub in ("new", "cur", "tmp"):
        (maildir_root / sub).mkdir(parents=True, exist_ok=True)
    for index, raw in enumerate(mails):
        dovecot.deliver(raw)
        dovecot.deliver(raw, folder="Copie")
        dovecot.deliver(raw, folder="Brut")
        (maildir_root / "new" / f"{index:07d}.bench:2,").write_bytes(raw)
    for folder in ("INBOX", "Copie", "Brut"):  # warm-up: Dovecot indexes the new mails
        asyncio.run(raw_fetch(dovecot, pki, folder))
    size_mb = sum(len(raw) for raw in mails) / 1e6
    print(f"mails: {count} referral forms ({size_mb:.1f} MB), Dovecot IMAPS + client certificate",
          flush=True)

    started = time.perf_counter()
    fetched, _ = asyncio.run(raw_fetch(dovecot, pki))
    raw_fetch_s = time.perf_counter() - started
    assert fetched == count, fetched
    started = time.perf_counter()
    fetched, _ = asyncio.run(raw_fetch(dovecot, pki, by=INBOUND_PASS))
    raw_chunked_s = time.perf_counter() - started
    assert fetched == count, fetched
    one_rate, chunked_rate = count / raw_fetch_s, count / raw_chunked_s
    raw_fetch_rate = max(one_rate, chunked_rate)  # the ratios use the faster baseline
    print(f"raw aioimaplib UID FETCH 1:* (one command): {raw_fetch_s:.2f} s → "
          f"{one_rate:.0f} mails/s", flush=True)
    print(f"raw aioimaplib UID FETCH by {INBOUND_PASS}: {raw_chunked_s:.2f} s → "
          f"{chunked_rate:.0f} mails/s", flush=True)

    config = write_config(root, pki, dovecot, smtp.tls_port, database)
    app = App.from_config(load_config(config))
    app.db.migrate()
    profile = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    states = asyncio.run(bot_ingest(app, profile))
    ingest_s = time.perf_counter() - started
    left = len(dovecot.messages("INBOX"))
    moved = len(dovecot.messages("Traites"))
    ingest_rate = count / ingest_s
    print(f"bot ingest end to end (fetch, store, process, commit, MOVE; passes of "
          f"{INBOUND_PASS}): {ingest_s:.2f} s → {ingest_rate:.0f} mails/s; states {states}; "
          f"left in INBOX {left}, moved {moved}", flush=True)

    maildir_url, drop_maildir = fresh_database(database, root, "maildir")
    try:
        maildir_app = App.from_config(load_config(write_maildir_config(root, maildir_url)))
        maildir_app.db.migrate()
        started = time.perf_counter()
        maildir_states = asyncio.run(bot_ingest(maildir_app))
        maildir_s = time.perf_counter() - started
        maildir_app.db.dispose()
    finally:
        drop_maildir()
    maildir_rate = count / maildir_s
    overhead_ratio = ingest_rate / maildir_rate
    print(f"same bot end to end over Maildir (fresh database): {maildir_s:.2f} s → "
          f"{maildir_rate:.0f} mails/s; states {maildir_states}", flush=True)
    print(f"transport overhead ratio, IMAP / Maildir end to end: {overhead_ratio:.3f} "
          "(target ≥ 0.8)", flush=True)

    started = time.perf_counter()
    raw_moved = asyncio.run(raw_fetch_move(dovecot, pki, "Brut", "Brut-traites", INBOUND_PASS))
    raw_stage_s = time.perf_counter() - started
    assert raw_moved == count, raw_moved
    raw_stage_rate = count / raw_stage_s
    print(f"raw aioimaplib UID FETCH + UID MOVE by {INBOUND_PASS}: {raw_stage_s:.2f} s → "
          f"{raw_stage_rate:.0f} mails/s", flush=True)
    stage_url, drop_stage = fresh_database(database, root, "stage")
    try:
        copy = App.from_config(load_config(write_config(
            root, pki, dovecot, smtp.tls_port, stage_url, folder="Copie",
            processed="Copie-traites")))
        copy.db.migrate()
        started = time.perf_counter()
        set_aside = asyncio.run(imap_stage(copy))
        stage_s = time.perf_counter() - started
        copy.db.dispose()
    finally:
        drop_stage()
    assert set_aside == count and len(dovecot.messages("Copie-traites")) == count, set_aside
    stage_rate = set_aside / stage_s
    stage_ratio = stage_rate / raw_stage_rate
    print(f"bot IMAP stage (fetch, raw bytes committed, flag + MOVE; {set_aside} mails): "
          f"{stage_s:.2f} s → {stage_rate:.0f} mails/s", flush=True)
    print(f"IMAP stage ratio, bot / raw FETCH + MOVE: {stage_ratio:.3f} (target ≥ 0.6)",
          flush=True)
    print(f"ingest ratio bot / raw FETCH (the faster; kept for continuity): "
          f"{ingest_rate / raw_fetch_rate:.3f}", flush=True)

    outgoing = pending_mails(app)
    smtp.ask("reset")
    started = time.perf_counter()
    asyncio.run(raw_send(smtp.tls_port, pki, outgoing))
    raw_send_s = time.perf_counter() - started
    assert smtp.ask("count") == len(outgoing)
    raw_send_rate = len(outgoing) / raw_send_s
    print(f"raw aiosmtplib loop, one connection: {len(outgoing)} mails in {raw_send_s:.2f} s → "
          f"{raw_send_rate:.0f} mails/s", flush=True)

    smtp.ask("reset")
    started = time.perf_counter()
    delivery = asyncio.run(OutboxWorker(app).deliver_due(limit=10 * count))
    outbox_s = time.perf_counter() - started
    delivered = smtp.ask("count")
    app.db.dispose()
    outbox_rate = delivery["sent"] / outbox_s
    print(f"bot outbox worker: {dict(delivery)} in {outbox_s:.2f} s → {outbox_rate:.0f} mails/s; "
          f"server accepted {delivered}", flush=True)
    print(f"outbox ratio bot / raw send: {outbox_rate / raw_send_rate:.3f} (target ≥ 0.6)",
          flush=True)

    latencies = idle_latency(config, dovecot, smtp, args.idle_samples, rng, count)
    print(f"new mail → acknowledgement accepted, daemon in IDLE: "
          f"{', '.join(f'{x:.2f}' for x in latencies)} s (median {statistics.median(latencies):.2f}"
          f", max {max(latencies):.2f}; target < 2 s)")
    if profile is not None:
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(40)
        print(text.getvalue())
    return {
        "count": count, "database": "postgresql" if "postgresql" in database else "sqlite",
        "raw_fetch_one_command_per_s": round(one_rate, 1),
        "raw_fetch_by_pass_per_s": round(chunked_rate, 1),
        "raw_fetch_per_s": round(raw_fetch_rate, 1), "ingest_per_s": round(ingest_rate, 1),
        "ingest_ratio": round(ingest_rate / raw_fetch_rate, 4),
        "imap_stage_ratio": round(stage_ratio, 4), "imap_stage_per_s": round(stage_rate, 1),
        "raw_fetch_move_per_s": round(raw_stage_rate, 1),
        "transport_overhead_ratio": round(overhead_ratio, 4),
        "maildir_ingest_per_s": round(maildir_rate, 1),
        "raw_send_per_s": round(raw_send_rate, 1), "outbox_per_s": round(outbox_rate, 1),
        "outbox_ratio": round(outbox_rate / raw_send_rate, 4),
        "idle_latency_s": round(statistics.median(latencies), 3),
        "idle_latency_max_s": round(max(latencies), 3),
        "moved": moved, "left": left, "delivered": delivered,
    }


if __name__ == "__main__":
    main()
