"""The application context: configuration, database, templates, clock and senders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from mailbot.clock import Clock
from mailbot.config import Config, SenderDirectory
from mailbot.gpg.keyring import Keyring
from mailbot.outbound.templating import Templates
from store import workers
from store.db import Database


@dataclass
class App:
    """Everything a workflow needs, built once from the configuration."""

    config: Config
    db: Database
    templates: Templates
    clock: Clock = field(default_factory=Clock)
    directory: SenderDirectory = field(default_factory=SenderDirectory)
    # DKIM public-key look-up (``name, timeout=`` → TXT record bytes or ``None``); ``None``:
    # the DNS through dnspython. Tests publish their generated keys through it.
    dns_txt: Callable[..., bytes | None] | None = None
    # This process's identity in the worker registry and on its claims (``store.workers``);
    # two App instances in one process (tests) may be given two identities.
    worker: str = field(default_factory=workers.identity)

    @classmethod
    def from_config(cls, config: Config, *, clock: Clock | None = None) -> App:
        """Build the context (does not touch the network or create the schema)."""
        db = Database(config.database.url, schema=config.database.schema_, echo=config.database.echo,
                      application_name=workers.identity())
        directory = SenderDirectory.from_config(config.senders)
        return cls(config=config, db=db, templates=Templates(config.templates.path),
                   clock=clock or Clock(), directory=directory)

    @cached_property
    def keyring(self) -> Keyring | None:
        """The GnuPG keyring of ``[gpg] home``; ``None`` when GPG is not configured."""
        if not self.config.gpg.enabled:
            return None
        return Keyring(self.config.gpg, self.config.identity.address)

    @property
    def lease(self) -> dt.timedelta:
        """How long this process's claims hold without a heartbeat (``[daemon] lease_seconds``)."""
        return dt.timedelta(seconds=self.config.daemon.lease_seconds)

    @property
    def max_inbound_bytes(self) -> int:
        """The size above which an inbound mail is quarantined."""
        return int(self.config.inbound.max_size_mb * 1_000_000)
