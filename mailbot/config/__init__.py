"""The configuration: one pydantic model per TOML section, the loader and its French messages.
May import ``mailbot.errors`` and nothing else of ``mailbot``; every other package reads it.
"""

from mailbot.config.base import Section, TlsClient, TlsMode
from mailbot.config.coordination import CoordinationConfig
from mailbot.config.daemon import DaemonConfig
from mailbot.config.database import DatabaseConfig
from mailbot.config.identity import IdentityConfig
from mailbot.config.inbound import ImapInboundConfig, InboundConfig, MaildirInboundConfig
from mailbot.config.intake import IntakeConfig
from mailbot.config.jobs import JobsConfig
from mailbot.config.limits import LimitsConfig
from mailbot.config.load import DEFAULT_CONFIG, ENV_CONFIG, config_path, load_config, parse_config
from mailbot.config.log import LoggingConfig
from mailbot.config.matching import MatchingConfig, MatchingGroup
from mailbot.config.model import Config
from mailbot.config.outbound import MaildirRouteConfig, OutboundConfig, RouteConfig, SmtpRouteConfig
from mailbot.config.recontact import RecontactConfig
from mailbot.config.senders import Role, SenderDirectory, SendersConfig
from mailbot.config.templates import TemplatesConfig

__all__ = [
    "DEFAULT_CONFIG", "ENV_CONFIG", "Config", "CoordinationConfig", "DaemonConfig",
    "DatabaseConfig",
    "IdentityConfig", "ImapInboundConfig", "InboundConfig", "IntakeConfig", "JobsConfig",
    "LimitsConfig", "LoggingConfig", "MaildirInboundConfig", "MaildirRouteConfig",
    "MatchingConfig", "MatchingGroup", "OutboundConfig", "RecontactConfig", "Role", "RouteConfig",
    "Section", "SenderDirectory", "SendersConfig", "SmtpRouteConfig", "TemplatesConfig",
    "TlsClient", "TlsMode", "config_path", "load_config", "parse_config",
]
