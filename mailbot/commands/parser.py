"""Splitting a coordinator's mail into command lines.

Only the mail's new text is read (quoted history and signature are removed
before). Blank lines and courtesies (« Bonjour », « Merci ») are skipped; a
line starting with a command word starts a command; lines under a block
command (``COMPLETER``) belong to it; any other line is reported as not
understood. Without any command in the body, the subject is tried
(« STATUT E-7QK2M9 » as subject and an empty body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailbot.commands import commands
from mailbot.commands.base import Command
from parsers.referral.labels import normalise

# A short courtesy line: the greeting and at most two more words (« Bonjour à tous, »).
_COURTESY = re.compile(
    r"^(?:bonjour|bonsoir|salut|hello|coucou|merci|cordialement|bien a vous|bonne journee|"
    r"bonne soiree|a bientot|cdlt|bav)\b(?:\s+\S+){0,2}$")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|tr|fw|fwd|aw)\s*:\s*)+", re.IGNORECASE)
_WORD_EDGES = ".,;:!?()«»\"'*"


@dataclass
class CommandLine:
    """One command as written (``line``), its module (``None``: not understood) and its block."""

    number: int
    line: str
    command: Command | None
    words: tuple[str, ...] = ()
    rest: str = ""
    block: list[str] = field(default_factory=list)


def command_of(word: str) -> Command | None:
    """The command named by ``word`` (``clôturer``, ``CLOTURER:``), or ``None``."""
    return commands().get(normalise(word).upper())


def _is_skipped(line: str) -> bool:
    text = normalise(line)
    return not text or bool(_COURTESY.match(text))


def _start(number: int, line: str) -> CommandLine | None:
    words = line.split()
    command = command_of(words[0])
    if command is None:
        return None
    rest = line.strip()[len(words[0]):].strip()
    return CommandLine(number, line.strip(), command, tuple(w.strip(",;") for w in words[1:]), rest)


def parse_commands(text: str, subject: str = "") -> list[CommandLine]:
    """The commands of a mail's new text (see the module docstring)."""
    found: list[CommandLine] = []
    current: CommandLine | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if _is_skipped(raw):
            continue
        started = _start(number, raw)
        if started is not None:
            found.append(started)
            current = started if started.command is not None and started.command.BLOCK else None
        elif current is not None:
            current.block.append(raw.strip())
        else:
            found.append(CommandLine(number, raw.strip(), None))
    if not any(line.command for line in found):
        title = _REPLY_PREFIX.sub("", subject).strip()
        from_subject = _start(0, title) if title else None
        if from_subject is not None:
            return [from_subject, *found]
    return found


def starts_with_command(text: str) -> bool:
    """True when the first meaningful line is a command word in capitals (``CLOTURER E-…``).

    Used to quarantine commands sent from addresses that are not coordinators,
    without mistaking a referral form for one.
    """
    for raw in text.splitlines():
        if _is_skipped(raw):
            continue
        word = raw.split()[0].strip(_WORD_EDGES)
        return word.isupper() and command_of(word) is not None
    return False
