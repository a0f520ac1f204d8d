"""Reading the configuration: one TOML file validated by pydantic.

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
from typing import Any

from pydantic import BaseModel, ValidationError

from mailbot.config.messages import from_validation, toml_error
from mailbot.config.model import Config
from mailbot.errors import ConfigError

ENV_CONFIG = "MAILBOT_CONFIG"
DEFAULT_CONFIG = "mailbot.toml"

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


def parse_config(data: dict[str, Any], *, file: str = "<config>", base: Path | None = None) -> Config:
    """Validate already-parsed TOML data; raise :class:`ConfigError` when invalid."""
    data = dict(data)
    _apply_env(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise from_validation(error, file, Config) from None
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
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("le fichier n'est pas en UTF-8 (enregistrez-le en UTF-8)", file=shown) from None
    except OSError as error:
        raise ConfigError(f"lecture impossible : {error.strerror}", file=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_error(error, text, shown) from None
    config = parse_config(data, file=shown, base=file.resolve().parent)
    return config.model_copy(update={"source": file.resolve()})
