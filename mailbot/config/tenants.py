"""Several territories (tenants) in one deployment: one configuration file per tenant.

``mailbot --tenant NAME …`` reads ``<tenants folder>/NAME.toml``. The tenants
folder is ``--tenants-dir``, else ``$MAILBOT_TENANTS_DIR``, else the ``tenants/``
folder beside the default configuration file (``$MAILBOT_CONFIG``, else
``./mailbot.toml``): ``/etc/mailbot/tenants`` under the shipped systemd unit,
``./tenants`` on the command line.

Each file is a whole configuration of its own (identity, database schema,
mailboxes, partners, GPs, policy, templates, coordinators). A tenant loaded
this way is checked against the folder's other tenants
(:mod:`mailbot.config.tenant_conflicts`): two tenants never share a database
schema, a SQLite file, a mailbox or an identity address.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from mailbot.config.inbound import ImapInboundConfig
from mailbot.config.load import config_path, load_config
from mailbot.config.model import Config
from mailbot.config.tenant_conflicts import check_against, check_all
from mailbot.errors import ConfigError

ENV_TENANTS_DIR = "MAILBOT_TENANTS_DIR"
TENANTS_FOLDER = "tenants"
SUFFIX = ".toml"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def tenants_dir(explicit: str | os.PathLike[str] | None) -> Path:
    """The tenants folder: ``--tenants-dir``, ``$MAILBOT_TENANTS_DIR``, else ``tenants/`` beside
    the default configuration file."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_TENANTS_DIR)
    if env:
        return Path(env)
    return config_path(None).parent / TENANTS_FOLDER


def known_tenants(folder: Path) -> list[str]:
    """The tenant names of ``folder`` (one ``NAME.toml`` each), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir()
                  if p.name.endswith(SUFFIX) and p.is_file() and _NAME.match(p.name[:-len(SUFFIX)]))


def _known_text(folder: Path) -> str:
    names = known_tenants(folder)
    if not names:
        return f"aucun territoire dans {folder} (un fichier NOM.toml par territoire)"
    return "territoires connus : " + ", ".join(names)


def tenant_file(name: str, folder: Path) -> Path:
    """The configuration file of tenant ``name``; :class:`ConfigError` (exit 2) when unknown."""
    if not _NAME.match(name):
        raise ConfigError(
            f"nom de territoire « {name} » invalide : lettres minuscules, chiffres, - et _ "
            f"({_known_text(folder)})", file=str(folder), expected="--tenant NOM")
    file = folder / f"{name}{SUFFIX}"
    if not file.is_file():
        raise ConfigError(f"territoire « {name} » inconnu ; {_known_text(folder)}",
                          file=str(folder), expected=f"--tenant NOM, avec {folder}/NOM.toml")
    return file


def with_tenant(config: Config, name: str) -> Config:
    """``config`` marked as tenant ``name``; an IMAP state file of its own when none is set
    (the default, beside the file, would be shared by every tenant of the folder)."""
    update: dict[str, object] = {"tenant": name}
    inbound = config.inbound
    if isinstance(inbound, ImapInboundConfig) and inbound.state_file is None and config.source:
        state = config.source.parent / f"{name}.imap-state.json"
        update["inbound"] = inbound.model_copy(update={"state_file": state})
    return config.model_copy(update=update)


def load_tenant(name: str, folder: Path) -> Config:
    """Read tenant ``name`` of ``folder`` (not checked against the others)."""
    return with_tenant(load_config(tenant_file(name, folder)), name)


def load_selected(config: str | os.PathLike[str] | None, tenant: str | None,
                  folder: str | os.PathLike[str] | None) -> Config:
    """The configuration the command line selects: ``--tenant`` (checked against the other
    tenants of its folder) or ``--config``."""
    if not tenant:
        return load_config(config)
    if config:
        raise ConfigError("--config et --tenant s'excluent : un territoire est lu dans son "
                          "dossier", key=None, expected="--tenant NOM ou --config FICHIER")
    where = tenants_dir(folder)
    selected = load_tenant(tenant, where)
    check_against(selected, _readable_others(tenant, where))
    return selected


def _readable_others(name: str, folder: Path) -> dict[str, Config]:
    """The other tenants of ``folder`` that load (a broken file is its own tenant's problem)."""
    others = {}
    for other in known_tenants(folder):
        if other != name:
            with contextlib.suppress(ConfigError):
                others[other] = load_tenant(other, folder)
    return others


def load_all(folder: Path) -> dict[str, Config]:
    """Every tenant of ``folder``, each validated, checked against each other."""
    tenants = {name: load_tenant(name, folder) for name in known_tenants(folder)}
    check_all(tenants)
    return tenants
