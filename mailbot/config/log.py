"""``[logging]``: log level, format and file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from mailbot.config.base import Section


class LoggingConfig(Section):
    """Log level and format (``text`` or ``json`` for collectors)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    file: Path | None = None
