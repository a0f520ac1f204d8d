"""``mailbot gps``: the GP registry through the real command line (both backends)."""

from __future__ import annotations

import json

from sqlalchemy import select

from store.models import AuditRecord
from store.models_matching import GPEvent
from tests.helpers import Bot
from tests.test_matching_support import reply, rpps

GOOD = rpps(1)


def _add(bot: Bot, *extra: str, check: bool = True, rpps_value: str = GOOD,
         email: str = "paul.bernard@medecin.mssante.fr") -> object:
    return bot.cli("gps", "add", "--rpps", rpps_value, "--nom", "Bernard", "--prenom", "Paul",
                   "--email", email, "--cabinet", "Cabinet des Lilas",
                   "--adresse", "3 rue des Lilas, 16000 Angoulême", "--telephone", "05 45 12 34 56",
                   "--cp", "16000 16100", "--communes", "16290 Hiersac; 16400 La Couronne",
                   *extra, check=check)


def _listed(bot: Bot) -> list[dict[str, object]]:
    return list(json.loads(bot.cli("gps", "list", "--format", "json").stdout))


def test_add_list_set_pause_resume(bot: Bot) -> None:
    out = _add(bot, "--capacite", "3", "--ages", "enfants, 18-69", "--ald", "non", "--visites", "oui")
    assert "Médecin inscrit : Dr Paul Bernard" in out.stdout  # type: ignore[attr-defined]
    [gp] = _listed(bot)
    assert gp["rpps"] == GOOD and gp["email"] == "paul.bernard@medecin.mssante.fr"
    assert gp["telephone"] == "+33545123456"
    assert gp["areas"] == ["16000", "16100", "16290 Hiersac", "16400 La Couronne"]
    assert gp["capacity_per_month"] == 3 and gp["max_open_proposals"] == 1  # [matching] default
    assert gp["age_bands"] == ["0-5", "6-17", "18-69"]
    assert (gp["accepts_ald"], gp["accepts_complex"], gp["home_visits"]) == (False, True, True)
    assert gp["accepting"] is True

    out = bot.cli("gps", "set", GOOD, "--capacite", "5", "--cp", "16000", "--communes", "")
    assert "capacity_per_month" in out.stdout and "areas" in out.stdout
    [gp] = _listed(bot)
    assert gp["capacity_per_month"] == 5 and gp["areas"] == ["16000"]

    assert "est en pause." in bot.cli("gps", "pause", GOOD).stdout
    assert "(déjà le cas)" in bot.cli("gps", "pause", GOOD).stdout
    assert _listed(bot)[0]["accepting"] is False
    assert "reçoit des propositions." in bot.cli("gps", "resume", GOOD).stdout
    text = bot.cli("gps", "list").stdout
    assert "Bernard" in text and "1 médecin(s), dont 1 disponible(s)" in text
    shown = bot.cli("gps", "show", GOOD).stdout
    assert "paused" in shown and "resumed" in shown and "capacity_per_month" in shown
    with bot.app.db.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(GPEvent).order_by(GPEvent.id))]
        actions = [a.action for a in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert kinds == ["created", "updated", "paused", "resumed"]
    assert actions == ["gp.created", "gp.updated", "gp.paused", "gp.resumed"]


def test_invalid_gp_data_is_refused_with_the_reason(bot: Bot) -> None:
    bad_key = GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10)
    proc = _add(bot, check=False, rpps_value=bad_key)
    assert proc.returncode == 2  # type: ignore[attr-defined]
    assert "RPPS" in proc.stderr and "clé" in proc.stderr  # type: ignore[attr-defined]
    proc = _add(bot, check=False, email="paul.bernard@gmail.com")
    assert proc.returncode == 2 and "MSSanté" in proc.stderr  # type: ignore[attr-defined]
    proc = _add(bot, "--capacite", "beaucoup", "--ages", "ados", check=False)
    assert proc.returncode == 2  # type: ignore[attr-defined]
    assert "Capacité par mois" in proc.stderr and "Âges acceptés" in proc.stderr  # type: ignore[attr-defined]
    _add(bot)
    proc = _add(bot, check=False)
    assert proc.returncode == 2 and "déjà inscrit" in proc.stderr  # type: ignore[attr-defined]
    proc = bot.cli("gps", "pause", rpps(2), check=False)
    assert proc.returncode == 2 and "aucun médecin" in proc.stderr
    assert len(_listed(bot)) == 1


CSV = f"""RPPS;Nom;Prénom;Adresse MSSanté;Cabinet;Téléphone;Codes postaux;Communes;Capacité par mois;Âges;ALD;Visites à domicile
{rpps(1)};Bernard;Paul;paul.bernard@medecin.mssante.fr;Cabinet des Lilas;05 45 12 34 56;16000;;2;tous;oui;non
{rpps(2)};Durand;Anne;anne.durand@medecin.mssante.fr;MSP du Port;;16100;16290 Hiersac;4;enfants;oui;oui
12345678901;Faux;Numéro;faux@medecin.mssante.fr;;;16000;;2;;;
{rpps(3)};Sans;Mssante;sans@gmail.com;;;16000;;2;;;
{rpps(4)};Code;Postal;code@medecin.mssante.fr;;;160;;2;;;
{rpps(2)};Durand;Anne;autre@medecin.mssante.fr;;;16100;;4;;;
"""


def test_import_validates_every_row_and_reports_rejected_ones(bot: Bot) -> None:
    path = bot.root / "medecins.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    dry = bot.cli("gps", "import", str(path), "--dry-run", check=False)
    assert dry.returncode == 1 and "2 médecin(s) seraient inscrit(s)" in dry.stdout
    assert _listed(bot) == []
    proc = bot.cli("gps", "import", str(path), check=False)
    assert proc.returncode == 1
    out = proc.stdout
    assert "6 ligne(s) lue(s) : 2 médecin(s) ont été inscrit(s), 0 mis à jour, 4 ligne(s) refusée(s)" in out
    assert "ligne 4 : RPPS" in out
    assert "ligne 5 : Adresse MSSanté" in out
    assert "ligne 6 : Codes postaux" in out
    assert f"ligne 7 : RPPS {rpps(2)} déjà présent ligne 3" in out
    gps = {g["rpps"]: g for g in _listed(bot)}
    assert set(gps) == {rpps(1), rpps(2)}
    assert gps[rpps(2)]["areas"] == ["16100", "16290 Hiersac"]
    assert gps[rpps(2)]["age_bands"] == ["0-5", "6-17"] and gps[rpps(2)]["home_visits"] is True
    # Importing again updates instead of duplicating.
    path.write_text(CSV.splitlines()[0] + "\n" + f"{rpps(1)};Bernard;Paul;paul.bernard@medecin."
                    "mssante.fr;Cabinet des Lilas;;16000;;6;;;\n", encoding="utf-8")
    out = bot.cli("gps", "import", str(path)).stdout
    assert "0 médecin(s) ont été inscrit(s), 1 mis à jour, 0 ligne(s) refusée(s)" in out
    assert {g["rpps"]: g for g in _listed(bot)}[rpps(1)]["capacity_per_month"] == 6


def test_a_gp_added_on_the_command_line_is_a_known_sender(bot: Bot) -> None:
    _add(bot)
    bot.drop(reply("Paul.Bernard@medecin.mssante.fr", "PAUSE", subject="pause",
                   message_id="pause-1@medecin.mssante.fr"))
    assert dict(bot.run_once().states) == {"processed": 1}
    assert _listed(bot)[0]["accepting"] is False
