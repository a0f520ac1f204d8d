"""Configuration: one TOML file validated by pydantic.

Unknown keys are errors. Relative paths are relative to the configuration
file's folder. Secrets may come from the environment instead of the file:
``MAILBOT_DATABASE_URL``, ``MAILBOT_INBOUND_PASSWORD``,
``MAILBOT_OUTBOUND_PASSWORD`` and ``MAILBOT_OUTBOUND_ROUTES_<n>_PASSWORD``
(``n`` counting routes from 1).

:func:`load_config` raises :class:`~mailbot.errors.ConfigError` naming the
file, the key and what is expected; it never lets a pydantic or TOML traceback
through.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mailbot.errors import ConfigError

ENV_CONFIG = "MAILBOT_CONFIG"
DEFAULT_CONFIG = "mailbot.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityConfig(_Section):
    """Who the bot is: its mailbox and the CPTS name used in every mail."""

    address: str
    name: str
    nil: str | None = None  # X-MSS-NIL, the software's MSSanté registration number
    signature: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("une adresse de messagerie complète, ex. liste-attente@cpts.mssante.fr")
        return value.strip().lower()

    @property
    def domain(self) -> str:
        """The domain used for our Message-IDs."""
        return self.address.rsplit("@", 1)[1]


class DatabaseConfig(_Section):
    """Where the waitlist lives: a SQLite file or a PostgreSQL URL."""

    url: str = "sqlite:///var/mailbot.db"
    schema_: str | None = Field(default=None, alias="schema")
    echo: bool = False


TlsMode = Literal["implicit", "starttls", "none"]


class _TlsClient(_Section):
    host: str
    port: int | None = None
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = None
    client_cert: Path | None = None  # PEM certificate (or PKCS#12 bundle with .p12/.pfx)
    client_key: Path | None = None   # PEM private key (not needed for PKCS#12)
    client_key_password: str | None = None
    ca_file: Path | None = None      # e.g. the IGC-Santé chain
    insecure: bool = False           # tests only: no certificate verification (logged loudly)
    timeout_seconds: float = Field(default=60.0, gt=0)


class MaildirInboundConfig(_Section):
    """Inbound mail from a local Maildir (``cur/ new/ tmp/``)."""

    transport: Literal["maildir"]
    path: Path
    max_size_mb: float = Field(default=25.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)


class ImapInboundConfig(_TlsClient):
    """Inbound mail from an IMAP mailbox (MSSanté BAL applicative)."""

    transport: Literal["imap"]
    folder: str = "INBOX"
    processed_folder: str | None = "Traites"
    quarantine_folder: str | None = "Quarantaine"
    idle: bool = True
    poll_seconds: float = Field(default=60.0, gt=0)
    max_size_mb: float = Field(default=25.0, gt=0)
    state_file: Path | None = None


InboundConfig = Annotated[MaildirInboundConfig | ImapInboundConfig, Field(discriminator="transport")]


class MaildirRouteConfig(_Section):
    """Outbound mail written as files into a Maildir (demo, tests)."""

    transport: Literal["maildir"]
    path: Path
    secure: bool = True  # may carry health data
    domains: list[str] = Field(default_factory=list)


class SmtpRouteConfig(_TlsClient):
    """Outbound mail over SMTP (MSSanté operator or ordinary provider)."""

    transport: Literal["smtp"]
    secure: bool = True
    domains: list[str] = Field(default_factory=list)
    max_messages_per_connection: int = Field(default=100, gt=0)


RouteConfig = Annotated[MaildirRouteConfig | SmtpRouteConfig, Field(discriminator="transport")]


class OutboundConfig(_Section):
    """The default outbound transport, plus optional routes by recipient domain.

    Every field of the default route sits directly in ``[outbound]``; routes
    listed in ``[[outbound.routes]]`` take the recipients whose domain matches
    one of their ``domains`` (``*.mssante.fr`` style wildcards allowed).
    """

    transport: Literal["maildir", "smtp"]
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: str | None = None
    ca_file: Path | None = None
    insecure: bool = False
    timeout_seconds: float = Field(default=60.0, gt=0)
    secure: bool = True
    max_messages_per_connection: int = Field(default=100, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    routes: list[RouteConfig] = Field(default_factory=list)

    def default_route(self) -> MaildirRouteConfig | SmtpRouteConfig:
        """The route used when no ``[[outbound.routes]]`` entry matches."""
        if self.transport == "maildir":
            if self.path is None:
                raise ValueError("path")
            return MaildirRouteConfig(transport="maildir", path=self.path, secure=self.secure)
        if self.host is None:
            raise ValueError("host")
        return SmtpRouteConfig(
            transport="smtp", host=self.host, port=self.port, tls=self.tls, user=self.user,
            password=self.password, client_cert=self.client_cert, client_key=self.client_key,
            client_key_password=self.client_key_password, ca_file=self.ca_file,
            insecure=self.insecure, timeout_seconds=self.timeout_seconds, secure=self.secure,
            max_messages_per_connection=self.max_messages_per_connection,
        )


class SendersConfig(_Section):
    """Who may write to the bot. Entries are full addresses or bare domains."""

    partners: list[str] = Field(default_factory=list)
    coordinators: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)

    @field_validator("partners", "coordinators", "allow")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            value = value.strip().lower()
            if not value or value.startswith("@") or " " in value:
                raise ValueError("une adresse (nom@domaine) ou un domaine (domaine.fr)")
            cleaned.append(value)
        return cleaned


class IntakeConfig(_Section):
    """How referral forms are received."""

    postal_codes: list[str] = Field(default_factory=list)  # territory served; empty = no check
    postal_code_prefixes: list[str] = Field(default_factory=list)
    raw_retention_days: int = Field(default=30, ge=0)

    @field_validator("postal_codes")
    @classmethod
    def _cp(cls, values: list[str]) -> list[str]:
        for value in values:
            if not (len(value) == 5 and value.isdigit()):
                raise ValueError(f"codes postaux à 5 chiffres, « {value} » n'en est pas un")
        return values


class LimitsConfig(_Section):
    """Safety limits against mail loops."""

    replies_per_sender_per_hour: int = Field(default=10, ge=1)
    replies_per_partner_per_hour: int = Field(default=200, ge=1)


class TemplatesConfig(_Section):
    """Where to look for overriding mail templates before the shipped ones."""

    path: Path | None = None


# Priority criteria of ``[matching]`` (keys of mailbot.matching.criteria.GROUPS).
MatchingGroup = Literal["under_6", "over_70", "ald", "css_ame", "urgent", "situation_complexe",
                        "mobilite_reduite", "priorite"]
_DEFAULT_GROUPS: list[MatchingGroup] = ["under_6", "over_70", "ald", "css_ame", "urgent"]
_DEFAULT_WEIGHTS: dict[MatchingGroup, float] = {
    "under_6": 60.0, "over_70": 30.0, "ald": 30.0, "css_ame": 30.0, "urgent": 90.0}


class MatchingConfig(_Section):
    """GPs, priority policy, proposals and follow-ups (issue 5).

    ``policy``: ``fifo`` (registration date), ``criteria`` (the first of
    ``groups`` an entry belongs to, then registration date) or ``weighted``
    (days waited + the ``weights`` of the entry's criteria, highest first).
    ``mix_max_complex``: at most that many complex situations proposed to one
    GP per ``mix_period_days`` (absent: no limit). A proposal unanswered for
    ``proposal_reminder_days`` gets one reminder and expires after
    ``proposal_expiry_days``; ``followup_after_days`` after a match the GP is
    asked whether he became the médecin traitant (reminder, then no answer).
    """

    policy: Literal["fifo", "criteria", "weighted"] = "fifo"
    groups: list[MatchingGroup] = Field(default_factory=lambda: list(_DEFAULT_GROUPS))
    weights: dict[MatchingGroup, float] = Field(default_factory=lambda: dict(_DEFAULT_WEIGHTS))
    mix_max_complex: int | None = Field(default=None, ge=0)
    mix_period_days: int = Field(default=30, ge=1)
    proposal_reminder_days: float = Field(default=3.0, gt=0)
    proposal_expiry_days: float = Field(default=7.0, gt=0)
    followup_after_days: float = Field(default=30.0, gt=0)
    followup_reminder_days: float = Field(default=7.0, gt=0)
    followup_expiry_days: float = Field(default=14.0, gt=0)
    default_capacity_per_month: int = Field(default=2, ge=0)
    default_max_open_proposals: int = Field(default=1, ge=1)

    @field_validator("groups")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("chaque critère une seule fois, dans l'ordre de priorité")
        return values

    @field_validator("proposal_expiry_days")
    @classmethod
    def _after_reminder(cls, value: float, info: Any) -> float:
        reminder = info.data.get("proposal_reminder_days")
        if reminder is not None and value <= reminder:
            raise ValueError(f"un délai plus long que proposal_reminder_days ({reminder})")
        return value

    @field_validator("followup_expiry_days")
    @classmethod
    def _after_followup_reminder(cls, value: float, info: Any) -> float:
        reminder = info.data.get("followup_reminder_days")
        if reminder is not None and value <= reminder:
            raise ValueError(f"un délai plus long que followup_reminder_days ({reminder})")
        return value


RecontactStatus = Literal["waiting", "incomplete"]


class RecontactConfig(_Section):
    """Monthly "still looking?" mails and the call list (issue 6).

    A *round* is one question mail, then one reminder ``reminder_after_days``
    later (0: none); it is unanswered ``close_after_days`` after its last
    mail. After ``unanswered_rounds_before_call`` unanswered rounds in a row
    the entry goes on the coordinators' call list, as do entries with no
    e-mail address or a failing one.
    """

    enabled: bool = True
    statuses: list[RecontactStatus] = Field(default_factory=lambda: list[RecontactStatus](["waiting"]))
    interval_days: int = Field(default=30, ge=1)
    send_weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    send_from: str = "09:00"
    send_until: str = "18:00"
    reminder_after_days: int = Field(default=7, ge=0)
    close_after_days: int = Field(default=7, ge=1)
    unanswered_rounds_before_call: int = Field(default=1, ge=1)
    token_ttl_days: int = Field(default=60, ge=1)
    temporary_failures_before_failing: int = Field(default=3, ge=1)
    max_mails_per_run: int = Field(default=2000, ge=1)
    acknowledge_answers: bool = True

    @field_validator("send_weekdays")
    @classmethod
    def _weekdays(cls, values: list[int]) -> list[int]:
        if not values or any(not 1 <= v <= 7 for v in values):
            raise ValueError("des jours de 1 (lundi) à 7 (dimanche), ex. [1, 2, 3, 4, 5]")
        return sorted(set(values))

    @field_validator("send_from", "send_until")
    @classmethod
    def _clock_time(cls, value: str, info: Any) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) <= 24 and int(minutes) < 60
                and len(minutes) == 2 and int(hours) * 60 + int(minutes) <= 24 * 60):
            raise ValueError("une heure HH:MM, ex. \"09:00\"")
        value = f"{int(hours):02d}:{minutes}"
        start = info.data.get("send_from")
        if info.field_name == "send_until" and start and value <= start:
            raise ValueError(f"une heure après send_from ({start})")
        return value


class CoordinationConfig(_Section):
    """Escalation digest, coordinator commands, statistics (issue 7)."""

    # --- statistics and import (issue 7, mailbot stats / mailbot import) ---
    # In reports meant to leave the CPTS (``stats --public``) counts from 1 to N-1 are masked.
    stats_mask_below: int = Field(default=5, ge=1)
    # Rows written per transaction by ``mailbot import`` (a crash loses at most one batch).
    import_batch_rows: int = Field(default=500, ge=1)

    # --- escalation digest, urgent alerts and commands by mail (issue 7) ---
    # Who receives digests and urgent alerts; empty: every full address of [senders] coordinators.
    recipients: list[str] = Field(default_factory=list)
    # Entries still incomplete this many days after registration are listed (0: never).
    incomplete_after_days: int = Field(default=7, ge=0)
    # Entries waiting for a doctor longer than this many days are listed (0: never).
    waiting_after_days: int = Field(default=180, ge=0)
    # Set-aside mails (escalated, quarantined) are recalled in one line for this many days
    # after the digest that showed them in full (0: shown once).
    reminder_days: int = Field(default=7, ge=0)
    # Items listed per section; the others are counted.
    max_items_per_section: int = Field(default=30, ge=1)
    # Attach the original mail of each new escalated item, up to this total per mail.
    attach_originals: bool = True
    max_attachments_mb: float = Field(default=10.0, ge=0)
    # Commands read in one coordinator mail, at most.
    max_commands_per_mail: int = Field(default=30, ge=1)

    @field_validator("recipients")
    @classmethod
    def _full_addresses(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip().lower() for value in values]
        for value in cleaned:
            if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or " " in value:
                raise ValueError(f"des adresses complètes (nom@domaine), « {value} » n'en est pas une")
        return cleaned


class JobsConfig(_Section):
    """When scheduled jobs run: ``schedules = { name = "cron" }``, or ``"off"``.

    Cron expressions have five fields (minute hour day month weekday), in the
    ``timezone`` given. Jobs not listed run on their default schedule
    (``mailbot jobs list`` shows them).
    """

    schedules: dict[str, str] = Field(default_factory=dict)
    timezone: str = "Europe/Paris"


class LoggingConfig(_Section):
    """Log level and format (``text`` or ``json`` for collectors)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    file: Path | None = None


class Config(_Section):
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

    # Where the file was read from (not a TOML key).
    source: Path | None = Field(default=None, exclude=True)


_EXPECTED = {
    "missing": "cette clé est obligatoire",
    "extra_forbidden": "clé inconnue : supprimez-la ou corrigez son nom (voir config.example.toml)",
}

_ENV_SECRETS = {
    "MAILBOT_DATABASE_URL": ("database", "url"),
    "MAILBOT_INBOUND_PASSWORD": ("inbound", "password"),
    "MAILBOT_OUTBOUND_PASSWORD": ("outbound", "password"),
}


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The configuration path: ``--config``, else ``$MAILBOT_CONFIG``, else ``./mailbot.toml``."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_CONFIG)
    return Path(env) if env else Path(DEFAULT_CONFIG)


def _apply_env(data: dict[str, Any]) -> None:
    for var, (section, key) in _ENV_SECRETS.items():
        if var in os.environ:
            data.setdefault(section, {})
            if isinstance(data[section], dict):
                data[section][key] = os.environ[var]
    routes = data.get("outbound", {}).get("routes") if isinstance(data.get("outbound"), dict) else None
    if isinstance(routes, list):
        for index, route in enumerate(routes, start=1):
            var = f"MAILBOT_OUTBOUND_ROUTES_{index}_PASSWORD"
            if var in os.environ and isinstance(route, dict):
                route["password"] = os.environ[var]


def _resolve(base: Path, value: Path | None) -> Path | None:
    if value is None:
        return None
    value = value.expanduser()
    return value if value.is_absolute() else (base / value)


def _resolve_paths(config: Config, base: Path) -> Config:
    """Make every relative path (and SQLite file) relative to ``base``."""
    def fix(model: BaseModel) -> BaseModel:
        updates: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, Path):
                updates[name] = _resolve(base, value)
            elif isinstance(value, BaseModel):
                updates[name] = fix(value)
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                updates[name] = [fix(item) for item in value]
        return model.model_copy(update=updates)

    fixed = fix(config)
    assert isinstance(fixed, Config)
    url = fixed.database.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        rest = url[len(prefix):]
        db = fixed.database.model_copy(update={"url": prefix + str((base / rest).resolve())})
        fixed = fixed.model_copy(update={"database": db})
    return fixed


def _format_loc(loc: tuple[Any, ...]) -> str:
    """``("outbound", "routes", 0, "smtp", "host")`` → ``outbound.routes[1].host``.

    pydantic inserts the discriminator tag (``maildir``, ``imap``, ``smtp``)
    after a tagged union's position; people never wrote it, so it is dropped.
    """
    text = ""
    previous: Any = None
    for item in loc:
        if isinstance(item, int):
            text += f"[{item + 1}]"
        elif item in ("maildir", "imap", "smtp") and (previous == "inbound" or isinstance(previous, int)):
            pass
        else:
            text += f".{item}" if text else str(item)
        previous = item
    return text


def _from_validation(error: ValidationError, file: str) -> ConfigError:
    first = error.errors()[0]
    key = _format_loc(tuple(first["loc"]))
    kind = first["type"]
    if kind in _EXPECTED:
        return ConfigError(_EXPECTED[kind], file=file, key=key)
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return ConfigError("transport inconnu ou absent", file=file, key=f"{key}.transport" if key else "transport",
                           expected="« maildir », « imap » (entrée) ou « smtp » (sortie)")
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    value = first.get("input")
    shown = f" (valeur lue : {value!r})" if isinstance(value, str | int | float | bool) else ""
    more = len(error.errors()) - 1
    suffix = f" — et {more} autre(s) erreur(s) après correction de celle-ci" if more else ""
    return ConfigError(f"valeur invalide{shown}: {message}{suffix}", file=file, key=key)


def parse_config(data: dict[str, Any], *, file: str = "<config>", base: Path | None = None) -> Config:
    """Validate already-parsed TOML data; raise :class:`ConfigError` when invalid."""
    data = dict(data)
    _apply_env(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise _from_validation(error, file) from None
    out = config.outbound
    if out.transport == "maildir" and out.path is None:
        raise ConfigError("le transport maildir a besoin d'un dossier", file=file, key="outbound.path",
                          expected='path = "var/outbox"')
    if out.transport == "smtp" and out.host is None:
        raise ConfigError("le transport smtp a besoin d'un serveur", file=file, key="outbound.host",
                          expected='host = "smtp.exemple.mssante.fr"')
    if base is not None:
        config = _resolve_paths(config, base)
    return config


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the configuration file; raise :class:`ConfigError` when it is wrong."""
    file = config_path(path)
    shown = str(file)
    if not file.exists():
        raise ConfigError(
            "fichier de configuration introuvable", file=shown,
            expected="un fichier TOML : copiez config.example.toml, ou indiquez --config CHEMIN "
                     "ou la variable MAILBOT_CONFIG",
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("le fichier n'est pas en UTF-8", file=shown) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"syntaxe TOML invalide : {error}", file=shown) from None
    except OSError as error:
        raise ConfigError(f"lecture impossible : {error.strerror}", file=shown) from None
    config = parse_config(data, file=shown, base=file.resolve().parent)
    return config.model_copy(update={"source": file.resolve()})
