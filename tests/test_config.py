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


MINIMAL_TOML = """[identity]
address = "liste@cpts.mssante.fr"
name = "CPTS"
[inbound]
transport = "maildir"
path = "in"
[outbound]
transport = "maildir"
path = "out"
"""


@pytest.mark.parametrize(("text", "expected"), [
    (MINIMAL_TOML.replace('name = "CPTS"', "name = CPTS Exemple"),
     "valeur illisible : du texte s'écrit entre guillemets"),
    (MINIMAL_TOML.replace('name = "CPTS"', 'name "CPTS"'), "il manque « = » après le nom de la clé"),
    (MINIMAL_TOML.replace('name = "CPTS"', 'name = "CPTS'), "guillemet fermant manquant"),
    (MINIMAL_TOML + '[identity]\nnil = "x"\n', "section écrite deux fois"),
])
def test_a_toml_syntax_error_is_explained_in_french_with_line_and_column(
        tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mailbot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert expected in message
    assert "ligne " in message and "colonne " in message, message
    assert "Expected" not in message and "Invalid" not in message and "at line" not in message


def test_the_line_of_a_toml_error_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "mailbot.toml"
    path.write_text(MINIMAL_TOML.replace('name = "CPTS"', "name = CPTS Exemple"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "ligne 3, colonne 8 (« name = CPTS Exemple ») : valeur illisible" in str(caught.value)


def test_a_misspelt_required_key_is_named_with_its_right_spelling(tmp_path: Path) -> None:
    path = tmp_path / "mailbot.toml"
    path.write_text(MINIMAL_TOML.replace("address =", "adresse =", 1), encoding="utf-8")
    assert "adresse =" in path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "identity.adresse" in str(caught.value)
    assert "vouliez-vous dire « address »" in str(caught.value)


@pytest.mark.parametrize(("change", "suggested"), [
    ({"identity": {"adresse": "liste@cpts.mssante.fr", "name": "CPTS"}}, "address"),
    ({"senders": {"partner": ["x.fr"]}}, "partners"),
    ({"inbound": {"transport": "imap", "host": "h", "hots": "h"}}, "host"),
    ({"outbound": {"transport": "maildir", "path": "o",
                   "routes": [{"transport": "smtp", "host": "h", "domain": ["x.fr"]}]}}, "domains"),
    ({"matching": {"polcy": "fifo"}}, "policy"),
])
def test_an_unknown_key_suggests_the_closest_valid_one(change: dict[str, object],
                                                       suggested: str) -> None:
    data = {**BASE, **change}
    if "address" not in data["identity"]:  # type: ignore[operator]
        data["identity"] = {**data["identity"], "address": "x@cpts.mssante.fr"}  # type: ignore[dict-item]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, file="f.toml")
    assert f"vouliez-vous dire « {suggested} »" in str(caught.value)


def test_a_key_far_from_every_valid_one_gets_no_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, "identity": {**BASE["identity"], "zzz": 1}}, file="f.toml")
    assert "clé inconnue" in str(caught.value) and "vouliez-vous" not in str(caught.value)


@pytest.mark.parametrize(("change", "expected"), [
    ({"limits": {"replies_per_sender_per_hour": "beaucoup"}}, "attendu un nombre entier"),
    ({"limits": {"replies_per_sender_per_hour": 0}}, "attendu un nombre supérieur ou égal à 1"),
    ({"database": {"echo": "peut-être"}}, "attendu true ou false"),
    ({"logging": {"level": "BAVARD"}}, "attendu une de ces valeurs : 'DEBUG'"),
])
def test_a_wrong_value_says_what_is_expected_in_french(change: dict[str, object],
                                                       expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, **change}, file="f.toml")
    assert expected in str(caught.value)
    assert "Input should" not in str(caught.value)
