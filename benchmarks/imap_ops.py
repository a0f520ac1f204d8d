"""What each IMAP command of the ingest costs Dovecot, per mail (issue 4).

The ingest target of ``benchmarks/imap_smtp.py`` compares the bot with a raw
``UID FETCH`` of the mailbox. This script times, with raw aioimaplib on the same
Dovecot over TLS, each command the transport needs for a mail — by runs of 100
UIDs, as the transport sends them — on its own copy of the mails:

* ``UID FETCH (BODY.PEEK[])``: the baseline itself;
* ``UID FETCH (UID RFC822.SIZE)``: the size check before the body;
* ``UID STORE +FLAGS.SILENT``: the "handled" flag;
* ``UID MOVE`` to the processed folder, after the flag and alone.

The ratio ``fetch / (fetch + move)`` bounds any ingest that sets its mails aside
(as the issue requires) by one command after the other, before any processing.

    python benchmarks/imap_ops.py [--count 2000]

Prints microseconds per mail; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aioimaplib  # noqa: E402

from benchmarks.imap_smtp import _Tls  # noqa: E402
from benchmarks.mailgen import referral_mail  # noqa: E402
from mailbot.transports.tls import client_context  # noqa: E402
from tests.servers.dovecot import DovecotServer  # noqa: E402
from tests.servers.pki import Pki, make_pki  # noqa: E402

RUN = 100  # UIDs per command, as the transport sends them
FOLDERS = ("Fetch", "Size", "Flag", "Move")


async def _connect(dovecot: DovecotServer, pki: Pki) -> aioimaplib.IMAP4_SSL:
    client = aioimaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port,
                                  ssl_context=client_context(_Tls(pki)), timeout=300)
    await client.wait_hello_from_server()
    await client.login(dovecot.user, dovecot.password)
    return client


async def _runs(client: aioimaplib.IMAP4_SSL, folder: str) -> list[str]:
    """SELECT ``folder``; its UIDs as sequence sets of ``RUN``."""
    await client.select(folder)
    found = await client.uid_search("ALL")
    uids = [token.decode() for line in found.lines[:-1] for token in line.split()
            if token.isdigit()]
    return [",".join(uids[i:i + RUN]) for i in range(0, len(uids), RUN)]


async def _timed(runs: list[str], command: Callable[[str], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for uid_set in runs:
        await command(uid_set)
    return time.perf_counter() - started


async def measure(dovecot: DovecotServer, pki: Pki) -> dict[str, float]:
    """Seconds for each command over every mail of its folder."""
    client = await _connect(dovecot, pki)
    await client.create("Traites")
    for folder in FOLDERS:  # warm-up: Dovecot indexes each folder once
        await client.select(folder)
        for uid_set in await _runs(client, folder):
            await client.uid("fetch", uid_set, "(UID RFC822.SIZE)")
    seconds: dict[str, float] = {}
    runs = await _runs(client, "Fetch")
    seconds["fetch"] = await _timed(runs, lambda u: client.uid(
        "fetch", u, "(BODY.PEEK[])"))
    runs = await _runs(client, "Size")
    seconds["size"] = await _timed(runs, lambda u: client.uid(
        "fetch", u, "(UID RFC822.SIZE)"))
    runs = await _runs(client, "Flag")
    seconds["store"] = await _timed(runs, lambda u: client.uid(
        "store", u, "+FLAGS.SILENT", "(\\Seen $MailbotDone)"))
    seconds["move_after_store"] = await _timed(runs, lambda u: client.uid(
        "move", u, "Traites"))
    runs = await _runs(client, "Move")
    seconds["move"] = await _timed(runs, lambda u: client.uid("move", u, "Traites"))
    await client.logout()
    return seconds


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    mails = [referral_mail(rng, i) for i in range(args.count)]
    with tempfile.TemporaryDirectory(prefix="bench-imap-ops-") as tmp:
        pki = make_pki(Path(tmp) / "pki")
        dovecot = DovecotServer(pki)
        dovecot.start()
        try:
            for folder in FOLDERS:
                for raw in mails:
                    dovecot.deliver(raw, folder=folder)
            seconds = asyncio.run(measure(dovecot, pki))
        finally:
            dovecot.cleanup(fast=True)
    per_mail = {name: value / args.count * 1e6 for name, value in seconds.items()}
    print(f"{args.count} referral mails, Dovecot over TLS, commands by runs of {RUN} UIDs:")
    for name, us in per_mail.items():
        print(f"  {name:18s} {us:7.1f} µs/mail   {1e6 / us:8.0f} mails/s")
    bound = per_mail["fetch"] / (per_mail["fetch"] + per_mail["move"])
    print(f"fetch / (fetch + move): {bound:.3f} — the most a one-after-the-other ingest that "
          "moves its mails can reach against the raw FETCH, before any processing")
    print(json.dumps({"count": args.count, **{f"{k}_us": round(v, 1) for k, v in per_mail.items()},
                      "move_over_fetch": round(per_mail["move"] / per_mail["fetch"], 3),
                      "fetch_move_bound": round(bound, 3)}))


if __name__ == "__main__":
    main()
