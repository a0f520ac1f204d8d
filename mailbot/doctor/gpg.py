"""``mailbot doctor`` checks of ``[gpg]``: the keyring folder (0700), the bot's key, its secret
part and its expiry (at least 30 days left); the keys of encrypted routes' recipients."""

from __future__ import annotations

import datetime as dt

from mailbot.app import App
from mailbot.doctor.check import CONFIG_ERROR, Check
from mailbot.errors import GpgError

MIN_DAYS_LEFT = 30


def gpg_checks(app: App) -> list[Check]:
    """Nothing when GPG is off; else the keyring and the bot's key."""
    cfg = app.config.gpg
    if not cfg.enabled:
        return []
    try:
        keyring = app.keyring
    except GpgError as error:
        return [Check("trousseau GPG", False, str(error), "voir [gpg] home",
                      exit_code=CONFIG_ERROR)]
    assert keyring is not None
    checks = [Check("trousseau GPG", True, f"{keyring.home} (droits 700)")]
    public = [k for k in keyring.list_keys() if app.config.identity.address in k.addresses
              or (cfg.key and k.fingerprint.endswith(cfg.key))]
    own = keyring.bot_key()
    if own is None:
        detail = ("clé publique présente, mais sans sa partie secrète" if public
                  else "aucune clé pour " + app.config.identity.address)
        checks.append(Check("clé du robot", False, detail,
                            "importez la clé secrète du robot (gpg --homedir DOSSIER --import "
                            "cle-secrete.asc) ou créez-la (gpg --homedir DOSSIER --quick-gen-key "
                            f"{app.config.identity.address})"))
        return checks
    checks.append(Check("clé du robot", True, f"{own.fingerprint} (partie secrète présente)"))
    now = dt.datetime.now(dt.UTC)
    if own.expires is None:
        checks.append(Check("expiration de la clé du robot", True, "n'expire pas"))
    else:
        days = (own.expires - now).days
        ok = days >= MIN_DAYS_LEFT
        checks.append(Check("expiration de la clé du robot", ok,
                            f"expire le {own.expires:%d/%m/%Y} (dans {max(days, 0)} jours)",
                            "" if ok else "prolongez-la (gpg --quick-set-expire EMPREINTE 2y) et "
                                          "envoyez la clé publique à jour aux correspondants"))
    return checks
