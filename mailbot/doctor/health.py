"""Health checks of ``mailbot doctor``: mail waiting too long, deliveries that failed."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from mailbot.app import App
from mailbot.doctor.check import Check
from store.db import DatabaseError
from store.health import Health, read_health

UNPROCESSED_ALERT_S = 15 * 60  # a mail stored and not processed for this long: a stuck daemon
PENDING_ALERT_S = 60 * 60      # an outgoing mail still pending after this long: a route down


def current_health(app: App) -> Health | None:
    """The counters now, ``None`` when the database cannot be read (its check says why)."""
    try:
        app.db.check_current()
        with app.db.sessions() as session:
            return read_health(session, app.clock.now())
    except (DatabaseError, SQLAlchemyError):
        return None


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.0f} h"


def health_checks(health: Health | None) -> list[Check]:
    """Warnings for the counters to alert on; nothing when the database is unreadable."""
    if health is None:
        return []
    oldest_in = health.oldest_unprocessed_s or 0.0
    oldest_out = health.oldest_pending_s or 0.0
    return [
        Check("messages reçus en attente", oldest_in < UNPROCESSED_ALERT_S,
              f"{health.inbound_unprocessed} à traiter"
              + (f", le plus ancien depuis {_minutes(oldest_in)}" if oldest_in else ""),
              "le démon ne traite plus les messages enregistrés : « systemctl status mailbot » "
              "et son journal", warning=True),
        Check("envois en attente", oldest_out < PENDING_ALERT_S,
              f"{health.outbox_pending} à envoyer"
              + (f", le plus ancien depuis {_minutes(oldest_out)}" if oldest_out else ""),
              "un serveur d'envoi refuse ou ne répond pas : voir les vérifications de connexion "
              "ci-dessus", warning=True),
        Check("envois en échec", health.outbox_failed_24h == 0,
              f"{health.outbox_failed_24h} depuis 24 h ({health.outbox_failed} en tout, "
              f"{health.outbox_refused} refusé(s) faute de voie sécurisée)",
              "les coordinateurs les voient dans leur récapitulatif ; « RENVOYER » après "
              "vérification", warning=True),
    ]
