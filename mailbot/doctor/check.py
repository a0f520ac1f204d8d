"""One finding of ``mailbot doctor``: ok, or a problem with its fix and exit code."""

from __future__ import annotations

from dataclasses import dataclass

CONFIG_ERROR = 2  # exit code of ``doctor`` for a configuration error


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` or a problem with its fix.

    ``exit_code`` is what ``doctor`` exits with when this check fails: 1 for an
    operational problem, 2 for a configuration error (wrong certificate, refused
    login…), as everywhere in the CLI.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    exit_code: int = 1
