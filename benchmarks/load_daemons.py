"""The daemons of ``benchmarks/load.py`` (real ``mailbot run`` processes) and what is measured
around them: peak RSS, CPU time, the PostgreSQL backends' CPU time; and two faults, SIGKILL
and the cut of the bot's database connections."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from store.db import Database

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of ``pid``'s resident memory (``VmHWM``), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Daemons:
    """Up to N ``mailbot run`` processes, one configuration each; the processes' CPU time and
    peak RSS are sampled (a killed process keeps its last sample)."""

    def __init__(self, configs: list[Path], logs: Path) -> None:
        self.configs = configs
        self.logs = logs
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.peak_rss: dict[str, float] = {}   # "daemon-<index>#<start>" -> MB
        self.cpu: dict[str, float] = {}        # same keys -> seconds
        self.starts: defaultdict[int, int] = defaultdict(int)
        self.exit_codes: list[tuple[str, int]] = []
        self.pids: set[int] = set()  # every daemon process started (their connections' tag)

    def _key(self, index: int) -> str:
        return f"daemon-{index}#{self.starts[index]}"

    def start(self, index: int) -> None:
        """Start daemon ``index`` (its output goes to a file of its own)."""
        self.starts[index] += 1
        out = open(self.logs / f"{self._key(index)}.out", "wb")  # noqa: SIM115 (kept by Popen)
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "--config", str(self.configs[index]), "run"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.pids.add(self.processes[index].pid)
        out.close()

    def start_many(self, count: int) -> None:
        """Have daemons 0..count-1 running (the others stopped)."""
        for index in sorted(self.processes):
            if index >= count:
                self.stop(index)
        for index in range(count):
            if index not in self.processes:
                self.start(index)

    def sample(self) -> None:
        """Record every running daemon's CPU time and peak RSS."""
        for index, process in list(self.processes.items()):
            key = self._key(index)
            cpu, rss = cpu_seconds(process.pid), peak_rss_mb(process.pid)
            if cpu is not None:
                self.cpu[key] = cpu
            if rss is not None:
                self.peak_rss[key] = max(rss, self.peak_rss.get(key, 0.0))

    def cpu_total(self) -> float:
        """CPU seconds of every daemon process so far."""
        self.sample()
        return sum(self.cpu.values())

    def kill(self, index: int) -> None:
        """SIGKILL daemon ``index`` (no clean-up of any kind)."""
        self.sample()
        process = self.processes.pop(index)
        process.kill()
        process.wait(10)
        self.exit_codes.append((self._key(index), process.returncode))

    def stop(self, index: int, timeout: float = 30.0) -> None:
        """SIGTERM daemon ``index`` and wait (SIGKILL after ``timeout``)."""
        self.sample()
        process = self.processes.pop(index)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        self.exit_codes.append((self._key(index), process.returncode))

    def stop_all(self) -> None:
        """Stop every daemon."""
        for index in sorted(self.processes):
            self.stop(index)

    def crashed(self) -> list[str]:
        """Daemons that exited on their own since started."""
        return [self._key(i) for i, p in self.processes.items() if p.poll() is not None]


class Sampler:
    """A background thread sampling the daemons and PostgreSQL's backends of the bot."""

    def __init__(self, daemons: Daemons, pg: PgWatch, period: float = 0.5) -> None:
        self.daemons, self.pg, self.period = daemons, pg, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with contextlib.suppress(Exception):  # a process ending between two reads
                self.daemons.sample()
                self.pg.sample()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


class PgWatch:
    """The PostgreSQL server seen from a checker connection of its own (not the bot's).

    A daemon's connections carry its worker identity as ``application_name``
    (``host:pid:start``, see store/workers.py): they are told by the daemons' pids.
    """

    _BOT = ("(split_part(application_name, ':', 2) = ANY(:pids) OR application_name = :name)"
            " AND pid <> pg_backend_pid()")

    def __init__(self, url: str, application_name: str, pids: Callable[[], set[int]]) -> None:
        self.db = Database(url)
        self.application_name = application_name
        self.pids = pids
        self.backend_cpu: dict[int, float] = {}  # backend pid -> CPU seconds (last sample)
        self._lock = threading.Lock()

    def _backends(self) -> list[int]:
        with self.db.engine.connect() as connection:
            return [int(pid) for (pid,) in connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE " + self._BOT), self._params())]

    def _params(self) -> dict[str, object]:
        return {"name": self.application_name, "pids": [str(p) for p in self.pids()]}

    def sample(self) -> None:
        """Record the CPU time of the bot's backends (PostgreSQL runs on this machine)."""
        for pid in self._backends():
            cpu = cpu_seconds(pid)
            if cpu is not None:
                with self._lock:
                    self.backend_cpu[pid] = max(cpu, self.backend_cpu.get(pid, 0.0))

    def backends_cpu_total(self) -> float:
        """CPU seconds of every backend of the bot seen so far."""
        with self._lock:
            return sum(self.backend_cpu.values())

    def terminate_bot_connections(self) -> int:
        """``pg_terminate_backend`` every connection of the bot (never this one); how many."""
        self.sample()
        with self.db.engine.connect() as connection:
            killed = connection.execute(text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE " + self._BOT), self._params()).scalar_one()
            connection.commit()
        return int(killed or 0)

    def close(self) -> None:
        """Close the checker's connections."""
        self.db.dispose()


def wait_until(predicate: object, timeout: float, period: float = 0.2) -> bool:
    """Poll ``predicate()`` until true or ``timeout`` seconds; True if it became true."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())
