"""argparse in French: usage, section titles, the help option and the error messages.

argparse's own texts go through :mod:`gettext`, for which no French catalogue is
installed; :class:`FrenchParser` and :class:`FrenchFormatter` override them
instead: « utilisation : », « arguments positionnels », « options », « affiche
cette aide et quitte », « arguments non reconnus : … ».
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

USAGE = "utilisation : "
HELP = "affiche cette aide et quitte"

# argparse's error messages (Python 3.11 to 3.13) → French.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^unrecognized arguments: (.*)$"), r"arguments non reconnus : \1"),
    (re.compile(r"^the following arguments are required: (.*)$"),
     r"arguments obligatoires manquants : \1"),
    (re.compile(r"^argument (.*?): invalid choice: (.*?) \(choose from (.*)\)$"),
     r"argument \1 : choix invalide : \2 (choisir parmi \3)"),
    (re.compile(r"^argument (.*?): invalid (\w+) value: (.*)$"),
     r"argument \1 : valeur invalide : \3"),
    (re.compile(r"^argument (.*?): expected one argument$"), r"argument \1 : une valeur attendue"),
    (re.compile(r"^argument (.*?): expected at least one argument$"),
     r"argument \1 : au moins une valeur attendue"),
    (re.compile(r"^argument (.*?): expected (.*) arguments?$"), r"argument \1 : \2 valeurs attendues"),
    (re.compile(r"^argument (.*?): not allowed with argument (.*)$"),
     r"argument \1 : incompatible avec \2"),
    (re.compile(r"^argument (.*?): ignored explicit argument (.*)$"),
     r"argument \1 : valeur \2 inattendue"),
    (re.compile(r"^one of the arguments (.*) is required$"), r"l'un de ces arguments est requis : \1"),
    (re.compile(r"^ambiguous option: (.*?) could match (.*)$"),
     r"option ambiguë : \1 peut désigner \2"),
    (re.compile(r"^argument (.*?): (.*)$"), r"argument \1 : \2"),
)


def french_error(message: str) -> str:
    """An argparse error message in French (unknown ones are kept as they are)."""
    for pattern, replacement in _ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


class FrenchFormatter(argparse.HelpFormatter):
    """Help in French: « utilisation : » before the usage line."""

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: Any) -> str:
        return super()._format_usage(usage, actions, groups, USAGE if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` speaking French; its sub-parsers are French too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", FrenchFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP)

    def error(self, message: str) -> NoReturn:
        """Print the usage and the error in French, exit with 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {french_error(message)}\n")
