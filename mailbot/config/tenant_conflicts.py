"""What two tenants may never share: a database schema, a SQLite file, a mailbox, a keyring,
an identity address.

Each tenant file *claims* resources (:func:`claims`); two files claiming the same
one are refused with a :class:`~mailbot.errors.ConfigError` (exit 2) naming both
files and the key. A PostgreSQL database is the same when host, port and
database name agree (``localhost``, ``127.0.0.1`` and a Unix socket count as
one); no ``schema`` means ``public``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mailbot.config.inbound import ImapInboundConfig, MaildirInboundConfig
from mailbot.config.model import Config
from mailbot.config.outbound import MaildirRouteConfig
from mailbot.errors import ConfigError

_LOCAL = {None, "", "localhost", "127.0.0.1", "::1"}
_EXAMPLES = {
    "identity.address": 'address = "liste-attente@cpts-nom.mssante.fr"',
    "database.schema": 'schema = "cpts_nom"',
    "database.url": 'url = "sqlite:////var/lib/mailbot/nom/mailbot.db"',
    "inbound.path": 'path = "/var/lib/mailbot/nom/inbox"',
    "inbound.user": "la boîte applicative du territoire",
    "inbound.state_file": 'state_file = "/var/lib/mailbot/nom/imap-state.json"',
    "outbound.path": 'path = "/var/lib/mailbot/nom/outbox"',
    "gpg.home": 'home = "/var/lib/mailbot/nom/gnupg"',
}


@dataclass(frozen=True)
class Claim:
    """One resource a tenant uses alone: the config key, what it is (French), its identity."""

    key: str
    what: str
    value: str


def _path(value: Path) -> str:
    return str(value.expanduser().resolve())


def database_claim(config: Config) -> Claim | None:
    """The database (and schema) of ``config``; ``None`` for an in-memory SQLite."""
    raw = config.database.url
    try:
        url = make_url(raw)
    except ArgumentError:
        return Claim("database.url", "la même base", "url:" + raw)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return Claim("database.url", "le même fichier SQLite", "sqlite:" + _path(Path(url.database)))
    host = "localhost" if url.host in _LOCAL else str(url.host).lower()
    schema = config.database.schema_ or "public"
    where = f"{url.get_backend_name()}://{host}:{url.port or 5432}/{url.database}#{schema}"
    return Claim("database.schema", "la même base PostgreSQL et le même schéma", where)


def claims(config: Config) -> list[Claim]:
    """Every resource ``config`` must not share with another tenant."""
    found = [Claim("identity.address", "la même adresse du robot",
                   "address:" + config.identity.address)]
    database = database_claim(config)
    if database is not None:
        found.append(database)
    inbound = config.inbound
    if isinstance(inbound, MaildirInboundConfig):
        found.append(Claim("inbound.path", "la même boîte de réception", "maildir:" + _path(inbound.path)))
    elif isinstance(inbound, ImapInboundConfig):
        box = f"imap:{inbound.host.lower()}:{inbound.port}:{(inbound.user or '').lower()}:{inbound.folder}"
        found.append(Claim("inbound.user", "la même boîte de réception IMAP", box))
        if inbound.state_file is not None:
            found.append(Claim("inbound.state_file", "le même fichier d'état IMAP",
                               "file:" + _path(inbound.state_file)))
    routes = [config.outbound.default_route(), *config.outbound.routes]
    for route in routes:
        if isinstance(route, MaildirRouteConfig):
            found.append(Claim("outbound.path", "le même dossier d'envoi", "maildir:" + _path(route.path)))
    if config.gpg.home is not None:
        found.append(Claim("gpg.home", "le même trousseau GnuPG", "keyring:" + _path(config.gpg.home)))
    return found


def _conflict(first: tuple[str, Path | None], second: tuple[str, Path | None], claim: Claim) -> ConfigError:
    (name_a, file_a), (name_b, file_b) = first, second
    return ConfigError(
        f"les territoires « {name_a} » ({file_a}) et « {name_b} » ({file_b}) ont {claim.what} : "
        "aucune donnée ni aucun message ne doit passer d'un territoire à l'autre",
        file=str(file_b), key=claim.key,
        expected=f"une valeur propre à chaque territoire, ex. {_EXAMPLES.get(claim.key, claim.key)}")


def check_all(tenants: dict[str, Config]) -> None:
    """Refuse two tenants claiming the same resource (the first conflict found)."""
    owners: dict[str, str] = {}
    for name, config in sorted(tenants.items()):
        for claim in claims(config):
            other = owners.setdefault(claim.value, name)
            if other != name:
                raise _conflict((other, tenants[other].source), (name, config.source), claim)


def check_against(selected: Config, others: dict[str, Config]) -> None:
    """Refuse ``selected`` (a tenant) when it shares a resource with one of ``others``."""
    assert selected.tenant is not None
    mine = {c.value: c for c in claims(selected)}
    for name, other in sorted(others.items()):
        if name == selected.tenant:
            continue
        for claim in claims(other):
            if claim.value in mine:
                raise _conflict((name, other.source), (selected.tenant, selected.source),
                                mine[claim.value])
