"""Configuration: validation, paths, environment secrets, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mailbot.config import ImapInboundConfig, load_config, parse_config
from mailbot.errors import ConfigError
from tests.helpers import ROOT

BASE = {
    "identity": {"address": "Liste-Attente@cpts.mssante.fr", "name": "CPTS"},
    "inbound": {"transport": "maildir", "path": "var/inbox"},
    "outbound": {"transport": "maildir", "path": "var/outbox"},
}


def test_example_configuration_is_valid_and_documents_every_key() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = parse_config(tomllib.loads(text))
    assert config.identity.name == "CPTS Exemple"
    for section in ("identity", "database", "inbound", "outbound", "senders", "intake", "limits",
                    "templates", "logging"):
        assert f"[{section}]" in text
    for key in ImapInboundConfig.model_fields:
        assert key in text, f"config.example.toml does not mention {key}"


def test_relative_paths_and_sqlite_file_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(
        '[identity]\naddress="a@b.mssante.fr"\nname="X"\n[database]\nurl="sqlite:///var/db.sqlite"\n'
        '[inbound]\ntransport="maildir"\npath="in"\n[outbound]\ntransport="maildir"\npath="/abs/out"\n',
        encoding="utf-8")
    config = load_config(tmp_path / "m.toml")
    assert config.database.url == f"sqlite:///{tmp_path}/var/db.sqlite"
    assert config.inbound.path == tmp_path / "in"
    assert config.outbound.path == Path("/abs/out")
    assert config.identity.address == "a@b.mssante.fr"


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MAILBOT_OUTBOUND_ROUTES_1_PASSWORD", "s3cret")
    data = {**BASE, "outbound": {"transport": "maildir", "path": "o",
                                 "routes": [{"transport": "smtp", "host": "smtp.x", "secure": False}]}}
    config = parse_config(data)
    assert config.database.url == "postgresql+psycopg://u@h/db"
    assert config.outbound.routes[0].password == "s3cret"


@pytest.mark.parametrize(("change", "key"), [
    ({"identity": {"address": "pas-une-adresse", "name": "X"}}, "identity.address"),
    ({"inbound": {"transport": "imap"}}, "inbound.host"),
    ({"outbound": {"transport": "smtp"}}, "outbound.host"),
    ({"outbound": {"transport": "maildir"}}, "outbound.path"),
    ({"outbound": {"transport": "maildir", "path": "o", "routes": [{"transport": "smtp"}]}},
     "outbound.routes[1].host"),
    ({"senders": {"partners": ["@x.fr"]}}, "senders.partners"),
    ({"logging": {"level": "BAVARD"}}, "logging.level"),
    ({"surprise": {}}, "surprise"),
])
def test_each_error_names_its_key(change: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, **change}, file="f.toml")
    assert caught.value.key == key, str(caught.value)
    assert str(caught.value).startswith("f.toml: clé « ")
