"""The whole configuration file: one field per section."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from mailbot.config.base import Section
from mailbot.config.coordination import CoordinationConfig
from mailbot.config.database import DatabaseConfig
from mailbot.config.gpg import GpgConfig
from mailbot.config.identity import IdentityConfig
from mailbot.config.inbound import InboundConfig
from mailbot.config.intake import IntakeConfig
from mailbot.config.jobs import JobsConfig
from mailbot.config.limits import LimitsConfig
from mailbot.config.log import LoggingConfig
from mailbot.config.matching import MatchingConfig
from mailbot.config.outbound import OutboundConfig
from mailbot.config.recontact import RecontactConfig
from mailbot.config.senders import SendersConfig
from mailbot.config.templates import TemplatesConfig


class Config(Section):
    """The whole configuration file."""

    identity: IdentityConfig
    database: DatabaseConfig = DatabaseConfig()
    inbound: InboundConfig
    outbound: OutboundConfig
    senders: SendersConfig = SendersConfig()
    intake: IntakeConfig = IntakeConfig()
    limits: LimitsConfig = LimitsConfig()
    templates: TemplatesConfig = TemplatesConfig()
    jobs: JobsConfig = JobsConfig()
    matching: MatchingConfig = MatchingConfig()
    recontact: RecontactConfig = RecontactConfig()
    coordination: CoordinationConfig = CoordinationConfig()
    logging: LoggingConfig = LoggingConfig()
    gpg: GpgConfig = GpgConfig()

    # Where the file was read from (not a TOML key).
    source: Path | None = Field(default=None, exclude=True)
    # The tenant name when read with ``--tenant`` (not a TOML key; see mailbot.config.tenants).
    tenant: str | None = Field(default=None, exclude=True)
