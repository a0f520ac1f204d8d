"""``python -m mailbot``."""

from mailbot.cli import entry_point

entry_point()
