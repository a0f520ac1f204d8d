"""The phases of ``benchmarks/load.py``: throughput with 1, 2 and 3 daemons, latency at a
given offered rate, then the faults, and the final drain."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.load_check import (
    bare,
    latencies,
    outbox_waiting,
    percentile,
    stuck_count,
    terminal_count,
)
from benchmarks.load_daemons import Daemons, PgWatch, wait_until
from benchmarks.load_mails import MIX, Inbound, Mix
from benchmarks.load_seed import Asked
from benchmarks.load_servers import Injector, SinkHandler
from store.db import Database


def note(text: str) -> None:
    """A progress line on stderr (the report goes to stdout)."""
    print(f"[load {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Sizes:
    """How many mails each phase gets, and the faults' timing (seconds into the fault phase)."""

    burst: int
    latency: int
    faults: int
    rate: float
    refuse_seconds: float
    kill_at: float
    restart_at: float
    cut_at: float
    refuse_at: float
    drain_timeout: float

    @classmethod
    def of(cls, mails: int, *, small: bool, rate: float, refuse_seconds: float | None) -> Sizes:
        """Shares of ``mails``: 3 × 15 % in bursts, 25 % for the latency, 30 % with faults."""
        refuse = refuse_seconds if refuse_seconds is not None else (5.0 if small else 30.0)
        faults = max(int(mails * 0.30), int(rate * (refuse + 4)))
        span = faults / rate
        return cls(burst=max(1, int(mails * 0.15)), latency=max(1, int(mails * 0.25)),
                   faults=faults, rate=rate, refuse_seconds=refuse,
                   kill_at=span * 0.1, restart_at=span * 0.1 + 1.5, cut_at=span * 0.3,
                   refuse_at=span * 0.4, drain_timeout=120.0 if small else 900.0)

    @property
    def total(self) -> int:
        """Every mail of the run."""
        return 3 * self.burst + self.latency + self.faults

    @property
    def patients(self) -> int:
        """Questions to seed: enough for the patients' replies and the bounces."""
        return int(self.total * (MIX["patient_reply"] + MIX["bounce"]) * 1.2) + 1

    @property
    def proposals(self) -> int:
        """Proposals to seed: enough for the GPs' replies."""
        return int(self.total * MIX["gp_reply"] * 1.2) + 1


@dataclass
class Run:
    """One run of every phase over the same servers and database."""

    sizes: Sizes
    db: Database
    daemons: Daemons
    pg: PgWatch
    injector: Injector
    sink: SinkHandler
    asked: list[Asked]
    kinds: Counter[str] = field(default_factory=Counter)
    faults: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mix = Mix(self.asked)

    def _mails(self, count: int) -> list[tuple[str, bytes, str]]:
        mails: list[Inbound] = self.mix.take(count)
        self.kinds.update(m.kind for m in mails)
        return [(bare(m.message_id), m.raw, m.envelope_from) for m in mails]

    def _all_terminal(self) -> bool:
        return terminal_count(self.db) >= len(self.injector.delivered)

    def _settled(self) -> bool:
        return self._all_terminal() and outbox_waiting(self.db) == 0

    def throughput(self, count: int) -> dict[str, Any]:
        """A burst with ``count`` daemons running; mails/s to the last terminal state."""
        self.daemons.start_many(count)
        note(f"throughput, {count} daemon(s)")
        wait_until(self._settled, self.sizes.drain_timeout)  # the seeded mails, the last phase
        time.sleep(1.0)  # every daemon idle, in IDLE
        mails = self._mails(self.sizes.burst)
        cpu_pg, cpu_bot = self.pg.backends_cpu_total(), self.daemons.cpu_total()
        start = time.monotonic()
        self.injector.burst(mails)
        injected = time.monotonic() - start
        done = wait_until(self._all_terminal, self.sizes.drain_timeout, period=0.1)
        elapsed = time.monotonic() - start
        self.pg.sample()
        return {"daemons": count, "mails": len(mails), "seconds": round(elapsed, 2),
                "per_s": round(len(mails) / elapsed, 1), "complete": done,
                "injected_per_s": round(len(mails) / injected, 1),
                "pg_cpu_s": round(self.pg.backends_cpu_total() - cpu_pg, 2),
                "daemons_cpu_s": round(self.daemons.cpu_total() - cpu_bot, 2),
                # cores the daemons kept busy: well under ``count``, they mostly wait
                "daemons_cores": round((self.daemons.cpu_total() - cpu_bot) / elapsed, 2)}

    def latency(self) -> dict[str, Any]:
        """3 daemons, mails offered at the configured rate; delivery-to-reply latencies."""
        self.daemons.start_many(3)
        wait_until(self._settled, self.sizes.drain_timeout)
        mails = self._mails(self.sizes.latency)
        note(f"latency, {len(mails)} mails at {self.sizes.rate:g}/s")
        cpu_pg, cpu_bot = self.pg.backends_cpu_total(), self.daemons.cpu_total()
        start = time.monotonic()
        offered = self.injector.paced(mails, self.sizes.rate)
        wait_until(self._settled, self.sizes.drain_timeout)
        elapsed = time.monotonic() - start
        self.pg.sample()
        values = latencies(self.injector.delivered, self.sink.snapshot(), {m for m, _, _ in mails})
        pg_cpu, bot_cpu = self.pg.backends_cpu_total() - cpu_pg, self.daemons.cpu_total() - cpu_bot
        p50, p99 = percentile(values, 0.50), percentile(values, 0.99)
        return {"mails": len(mails), "offered_per_s": round(offered, 1), "answered": len(values),
                "p50_s": round(p50, 3) if p50 is not None else None,
                "p99_s": round(p99, 3) if p99 is not None else None,
                "max_s": round(values[-1], 3) if values else None,
                "pg_cpu_s": round(pg_cpu, 2), "daemons_cpu_s": round(bot_cpu, 2),
                "seconds": round(elapsed, 2)}

    def _at(self, offset: float, name: str, action: Callable[[], Any]) -> threading.Timer:
        def fire() -> None:
            try:
                result = action()
            except Exception as error:
                result = f"{type(error).__name__}: {error}"
            self.faults.append({"fault": name, "at_s": round(offset, 1), "result": result})
            note(f"{name}: {result}")
        timer = threading.Timer(offset, fire)
        timer.start()
        return timer

    def with_faults(self) -> dict[str, Any]:
        """3 daemons under offered mail; kill + restart, connections cut, sink refusing."""
        s = self.sizes
        self.daemons.start_many(3)
        mails = self._mails(s.faults)
        note(f"faults, {len(mails)} mails at {s.rate:g}/s")
        timers = [self._at(s.kill_at, "sigkill daemon-1", lambda: self.daemons.kill(1)),
                  self._at(s.restart_at, "restart daemon-1", lambda: self.daemons.start(1)),
                  self._at(s.cut_at, "pg_terminate_backend", self.pg.terminate_bot_connections),
                  self._at(s.refuse_at, f"sink refuses {s.refuse_seconds:g} s",
                           lambda: self.sink.refuse_for(s.refuse_seconds))]
        start = time.monotonic()
        offered = self.injector.paced(mails, s.rate)
        for timer in timers:
            timer.join()
        drained = wait_until(self._settled, s.drain_timeout, period=0.5)
        return {"mails": len(mails), "offered_per_s": round(offered, 1), "drained": drained,
                "seconds_to_drain": round(time.monotonic() - start, 1), "faults": self.faults}

    def final_restart(self) -> dict[str, Any]:
        """Stop every daemon, count the mails left stored but not final, then start one
        daemon again (it takes up such mails when it connects) and count again."""
        self.daemons.stop_all()
        before = stuck_count(self.db)
        note(f"daemons stopped; {before} mail(s) stored but not final; one daemon restarted")
        self.daemons.start_many(1)
        wait_until(lambda: stuck_count(self.db) == 0 and self._settled(), 60.0, period=0.5)
        time.sleep(1.0)
        self.daemons.stop_all()
        return {"stuck_before_restart": before, "stuck_after_restart": stuck_count(self.db)}

    def all_phases(self) -> dict[str, Any]:
        """Every phase in order; the report (the checks come after the daemons stop)."""
        started = time.monotonic()
        bursts = [self.throughput(n) for n in (1, 2, 3)]
        latency = self.latency()
        faults = self.with_faults()
        wall = time.monotonic() - started
        faults.update(self.final_restart())
        cores = len(os.sched_getaffinity(0))
        pg_total = self.pg.backends_cpu_total()
        bot_total = self.daemons.cpu_total()
        return {
            "sizes": self.sizes.__dict__, "kinds": dict(self.kinds), "throughput": bursts,
            "per_s": {str(b["daemons"]): b["per_s"] for b in bursts}, "latency": latency,
            "faults": faults, "wall_s": round(wall, 1), "cores": cores,
            "pg_cpu_s": round(pg_total, 1), "daemons_cpu_s": round(bot_total, 1),
            # The bot's PostgreSQL backends over the machine's CPU time in the run, and their
            # part of the bot's whole CPU (daemons + backends).
            "pg_cpu_share": round(pg_total / (wall * cores), 3) if wall else None,
            "pg_share_of_bot_cpu": round(pg_total / (pg_total + bot_total), 3)
            if pg_total + bot_total else None,
        }
