"""Test helpers: a bot in a folder, driven in-process or through the real CLI."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mailbot.app import App
from mailbot.clock import Clock
from mailbot.config import load_config
from mailbot.config.minimal import merged, render_toml
from mailbot.config.minimal import minimal_sections as base_sections
from mailbot.inbound.pipeline import PassReport, Pipeline
from mailbot.transports.factory import inbound_transport
from mailbot.transports.maildir import ensure_maildir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT.parent / "shared" / "examples"
DATA = Path(__file__).resolve().parent / "data"
render_config = render_toml  # the shared builder (mailbot.config.minimal), under the tests' name


@dataclass
class Bot:
    """A bot living in ``root``: config file, Maildir inbox and outbox, database."""

    root: Path
    sections: dict[str, dict[str, Any]]
    app: App
    clock: Clock = field(default_factory=Clock)
    counter: int = 0

    @classmethod
    def create(cls, root: Path, database: dict[str, str],
               extra: dict[str, dict[str, Any]] | None = None) -> Bot:
        """Write the configuration, migrate the database, create the folders."""
        sections = merged(base_sections(database), extra)
        (root / "mailbot.toml").write_text(render_toml(sections), encoding="utf-8")
        clock = Clock()
        app = App.from_config(load_config(root / "mailbot.toml"), clock=clock)
        app.db.migrate()
        ensure_maildir(root / "var" / "inbox")
        ensure_maildir(root / "var" / "outbox")
        return cls(root=root, sections=sections, app=app, clock=clock)

    @property
    def config_path(self) -> Path:
        """The configuration file."""
        return self.root / "mailbot.toml"

    @property
    def inbox(self) -> Path:
        """The inbound Maildir."""
        return self.root / "var" / "inbox"

    @property
    def outbox_dir(self) -> Path:
        """The outbound Maildir."""
        return self.root / "var" / "outbox"

    def drop(self, raw: bytes | str, name: str | None = None) -> str:
        """Deliver a raw mail into the inbox ``new/`` folder; return its file name."""
        self.counter += 1
        name = name or f"{self.counter:05d}.test"
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        (self.inbox / "new" / name).write_bytes(data)
        return name

    def drop_example(self, name: str) -> str:
        """Deliver one of ``shared/examples``."""
        return self.drop((EXAMPLES / name).read_bytes(), name)

    def run_once(self) -> PassReport:
        """One ``run --once`` pass, in-process."""
        pipeline = Pipeline(self.app, inbound_transport(self.app.config.inbound))
        return asyncio.run(pipeline.run_once())

    def cli(self, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real ``mailbot`` command line against this bot's configuration."""
        full_env = {**os.environ, **(env or {})}
        full_env.pop("MAILBOT_DEBUG", None)
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
        proc = subprocess.run(
            [sys.executable, "-m", "mailbot", "--config", str(self.config_path), *args],
            capture_output=True, text=True, env=full_env, cwd=self.root, timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"mailbot {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def sent(self) -> list[EmailMessage]:
        """Every mail written to the outbound Maildir, oldest first."""
        files = sorted((self.outbox_dir / "new").iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        mails = []
        for path in files:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            mails.append(msg)
        return mails

    def export(self) -> list[dict[str, Any]]:
        """``mailbot entries export --format json``, in-process through the CLI module."""
        from mailbot.cli import main

        out = self.root / "export.json"
        code = main(["--config", str(self.config_path), "entries", "export", "--format", "json",
                     "--output", str(out)])
        assert code == 0
        return list(json.loads(out.read_text(encoding="utf-8")))

    def close(self) -> None:
        """Release database connections."""
        self.app.db.dispose()


def wait_until(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    """Poll ``predicate()`` every 0.1 s until true or ``timeout`` seconds; True if it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def body_of(msg: EmailMessage) -> str:
    """The plain-text body of a mail we sent."""
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
