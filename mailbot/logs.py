"""Logging set-up. Logs carry ids and counts, never names, dates of birth or free text."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            payload["error"] = record.exc_info[0].__name__
        return json.dumps(payload, ensure_ascii=False, default=str)


class NoTracebackFormatter(logging.Formatter):
    """Text lines; exceptions are named, not dumped (a traceback may hold patient data)."""

    def formatException(self, ei: object) -> str:
        exc_type = ei[0] if isinstance(ei, tuple) else None
        return f"  (exception {getattr(exc_type, '__name__', exc_type)})"


class TenantFilter(logging.Filter):
    """Stamps every record with the tenant's name (``tenant`` in JSON, ``[name]`` in text)."""

    def __init__(self, tenant: str) -> None:
        super().__init__()
        self.tenant = tenant

    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = self.tenant
        return True


def setup(level: str = "INFO", fmt: str = "text", file: Path | None = None, *,
          tenant: str | None = None) -> None:
    """Configure the root logger once for the daemon or the CLI (``tenant``: the territory
    named on every line, for deployments running one daemon per tenant)."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        where = f" [{tenant}]" if tenant else ""
        handler.setFormatter(NoTracebackFormatter(f"%(asctime)s %(levelname)s{where} %(name)s: %(message)s"))
    if tenant:
        handler.addFilter(TenantFilter(tenant))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("sqlalchemy", "alembic", "aiosmtplib", "aioimaplib", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
