"""What every mail command receives and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mailbot.errors import UsageError
from mailbot.operations.context import OpContext


@dataclass(frozen=True)
class CommandArgs:
    """The words after the command name, the rest of its line, and (block commands) the lines below."""

    words: tuple[str, ...]
    rest: str
    usage: str
    block: tuple[str, ...] = ()

    def first(self, what: str) -> str:
        """The first word; UsageError naming ``what`` and the expected form when absent."""
        if not self.words:
            raise UsageError(f"il manque {what} : écrivez « {self.usage} »")
        return self.words[0]

    def after_first(self) -> str:
        """The rest of the line after the first word (a motif, form lines…)."""
        parts = self.rest.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


@dataclass(frozen=True)
class CommandResult:
    """What a command did: success or refusal, a French message, and the object it named."""

    ok: bool
    message: str
    target: str | None = None


def done(message: str, target: str | None = None) -> CommandResult:
    """A successful result."""
    return CommandResult(True, message, target)


@dataclass(frozen=True)
class CommandContext:
    """The operation context (transaction, author, clock) plus the address that wrote the mail."""

    op: OpContext
    sender: str


class Command(Protocol):
    """A mail command module (``mailbot/commands/<name>.py``)."""

    NAME: str
    USAGE: str
    EXAMPLE: str
    HELP: str
    BLOCK: bool

    def run(self, ctx: CommandContext, args: CommandArgs) -> CommandResult:
        """Do the command; raise a MailbotError (nothing written) to refuse it."""

