"""One process at a time on a SQLite database.

SQLite has no ``SKIP LOCKED``: two ``mailbot run`` on one SQLite file could send
the same mail twice. The first process holds an exclusive ``flock`` on a lock file
beside the database (released by the kernel when it dies, even by SIGKILL); a second
one is refused with a message saying why and what to do. PostgreSQL needs no such
guard: there, claims are row locks and advisory locks.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailbot.errors import AlreadyRunningError
from store.db import Database


def lock_path(db: Database) -> Path | None:
    """The lock file of a SQLite database file; None for PostgreSQL or an in-memory SQLite."""
    if not db.is_sqlite:
        return None
    file = db.engine.url.database
    if not file or file == ":memory:":
        return None
    return Path(file).with_name(Path(file).name + ".run.lock")


@contextmanager
def only_process(db: Database) -> Iterator[None]:
    """Hold the SQLite database's run lock while the block runs.

    Raises :class:`AlreadyRunningError` when another process holds it.
    """
    path = lock_path(db)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise AlreadyRunningError(
                f"un autre « mailbot run » (processus {holder}) travaille déjà sur la base "
                f"SQLite {file_of(path)} : SQLite n'admet qu'un processus à la fois. Attendez "
                "qu'il finisse ou arrêtez-le ; pour faire tourner plusieurs démons, passez à "
                "PostgreSQL ([database] url = \"postgresql+psycopg://…\")."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def file_of(lock: Path) -> str:
    """The database file a lock file guards."""
    return str(lock.with_name(lock.name.removesuffix(".run.lock")))
