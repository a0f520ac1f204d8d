"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import logging

from mailbot import logs
from mailbot.app import App
from mailbot.clock import Clock
from mailbot.config import Config
from mailbot.config.tenants import load_selected
from mailbot.jobs.schedule import validate as validate_schedules


def config_of(args: argparse.Namespace) -> Config:
    """Load the configuration named by ``--config`` or ``--tenant`` (or the defaults)."""
    return load_selected(args.config, getattr(args, "tenant", None), getattr(args, "tenants_dir", None))


def app_of(args: argparse.Namespace, *, clock: Clock | None = None, check_schema: bool = True,
           log_format: str | None = None, daemon: bool = False) -> App:
    """Load the configuration, set up logging and build the application context.

    On the terminal a command prints its result, not a journal: the configured level (INFO)
    applies in the daemon, to a log file, or with ``-v``; otherwise only warnings reach stderr.
    """
    config = config_of(args)
    level = config.logging.level
    quiet = not (daemon or config.logging.file or getattr(args, "verbose", False))
    if quiet and logging.getLevelName(level.upper()) < logging.WARNING:
        level = "WARNING"
    logs.setup(level, log_format or config.logging.format, config.logging.file, tenant=config.tenant)
    app = App.from_config(config, clock=clock)
    validate_schedules(app)
    if check_schema:
        app.db.check_current()
    return app
