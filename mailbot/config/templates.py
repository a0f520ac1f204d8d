"""``[templates]``: a folder of mail templates that override the shipped ones."""

from __future__ import annotations

from pathlib import Path

from mailbot.config.base import Section


class TemplatesConfig(Section):
    """Where to look for overriding mail templates before the shipped ones."""

    path: Path | None = None
