"""Who holds what, for ``mailbot doctor``: live workers, claimed mails, sends, job locks.

:func:`holders` reads the worker registry (``store.workers``), the inbound claims, the
sends started and not recorded, the job occurrences running and, on PostgreSQL, the
advisory locks held (:mod:`store.locks`, with the holder's ``application_name``, the
workers' identity). :func:`holders_lines` says it in French for the terminal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from mailbot.app import App
from mailbot.clock import PARIS
from mailbot.jobs import load_all
from mailbot.jobs.schedule import lock_key
from store import occurrences, workers
from store.locks import held_locks
from store.models_workers import Worker


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _seconds(delta: dt.timedelta) -> float:
    return round(delta.total_seconds(), 1)


def holders(app: App) -> dict[str, Any]:
    """Everything held, as JSON-ready data (``doctor --json``, key ``holders``)."""
    now = app.clock.now()
    with app.db.sessions() as session:
        rows = list(session.scalars(select(Worker).order_by(Worker.started_at, Worker.id)))
        held = workers.holdings(session)
        jobs = occurrences.running(session)
        locks = [(lock.key, lock.application, lock.backend_pid, lock.since)
                 for lock in held_locks(session.connection())] if app.db.is_postgres else []
    names = {lock_key(name, app.db.schema): name for name in load_all()}
    return {
        "workers": [{"id": w.id, "role": w.role, "host": w.host, "pid": w.pid,
                     "started_at": _iso(w.started_at), "heartbeat_age_s": _seconds(now - w.heartbeat_at),
                     "lease_left_s": _seconds(w.expires_at - now), "live": w.expires_at >= now}
                    for w in rows],
        "inbound_claims": [{"worker": h.worker, "mails": h.inbound,
                            "lease_until": _iso(h.inbound_lease_until),
                            "expired": bool(h.inbound_lease_until and h.inbound_lease_until < now)}
                           for h in held if h.inbound],
        "sends_in_progress": [{"worker": h.worker, "mails": h.sends, "since": _iso(h.sends_since)}
                              for h in held if h.sends],
        "jobs_running": [{"job": o.name, "fire_at": _iso(o.fire_at), "worker": o.worker,
                          "started_at": _iso(o.started_at), "runs": o.runs} for o in jobs],
        "job_locks": [{"job": names[key], "key": key, "worker": application,
                       "backend_pid": pid, "since": _iso(since)}
                      for key, application, pid, since in locks if key in names],
        "other_locks": [{"key": key, "worker": application, "backend_pid": pid}
                        for key, application, pid, _ in locks if key not in names],
    }


def _when(value: str | None) -> str:
    if not value:
        return "?"
    return dt.datetime.fromisoformat(value).astimezone(PARIS).strftime("%d/%m %H:%M:%S")


def holders_lines(data: dict[str, Any]) -> list[str]:
    """The French text of :func:`holders`."""
    lines = ["Qui tient quoi :"]
    live = [w for w in data["workers"] if w["live"]]
    lines.append(f"  processus actifs : {len(live)}" + ("" if live else " (aucun démon ne tourne)"))
    for w in data["workers"]:
        state = (f"dernier signe il y a {w['heartbeat_age_s']:.0f} s" if w["live"] else
                 f"muet depuis {w['heartbeat_age_s']:.0f} s : tenu pour mort")
        lines.append(f"    {w['id']} ({w['role']}) : {state}")
    for c in data["inbound_claims"]:
        lease = "bail expiré : un autre processus les reprend" if c["expired"] else \
            f"bail jusqu'au {_when(c['lease_until'])}"
        lines.append(f"  messages reçus réservés par {c['worker']} : {c['mails']} ({lease})")
    for s in data["sends_in_progress"]:
        lines.append(f"  envois en cours par {s['worker']} : {s['mails']} "
                     f"(depuis le {_when(s['since'])})")
    for j in data["jobs_running"]:
        lines.append(f"  tâche {j['job']} (passage de {_when(j['fire_at'])}) en cours par "
                     f"{j['worker']}")
    for lock in data["job_locks"]:
        lines.append(f"  verrou de la tâche {lock['job']} tenu par {lock['worker'] or '?'} "
                     f"(connexion {lock['backend_pid']})")
    for lock in data["other_locks"]:
        lines.append(f"  autre verrou {lock['key']} tenu par {lock['worker'] or '?'}")
    return lines
