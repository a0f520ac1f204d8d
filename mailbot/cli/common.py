"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse

from mailbot import logs
from mailbot.app import App
from mailbot.clock import Clock
from mailbot.config import Config, load_config
from mailbot.jobs.schedule import validate as validate_schedules


def config_of(args: argparse.Namespace) -> Config:
    """Load the configuration named by ``--config`` (or the defaults)."""
    return load_config(args.config)


def app_of(args: argparse.Namespace, *, clock: Clock | None = None, check_schema: bool = True,
           log_format: str | None = None) -> App:
    """Load the configuration, set up logging and build the application context."""
    config = config_of(args)
    logs.setup(config.logging.level, log_format or config.logging.format, config.logging.file)
    app = App.from_config(config, clock=clock)
    validate_schedules(app)
    if check_schema:
        app.db.check_current()
    return app
