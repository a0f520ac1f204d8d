"""One exception hierarchy for the whole daemon.

Every error the bot raises on purpose derives from :class:`MailbotError`, so the
CLI can turn any of them into a clear message and an exit code without a
traceback. Parsers never raise on user input: they return typed problems
instead (see :mod:`parsers.referral.types`).
"""

from __future__ import annotations


class MailbotError(Exception):
    """Base class of every error raised on purpose by cpts-mailbot."""

    exit_code = 1


class ConfigError(MailbotError):
    """The configuration file is missing, unreadable or invalid.

    ``file`` is the configuration path, ``key`` the dotted key at fault (or
    ``None`` for the whole file) and ``expected`` says what would be right.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 expected: str | None = None) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        """The message as shown to the administrator."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.key:
            parts.append(f"clé « {self.key} »")
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.expected:
            text += f" (attendu : {self.expected})"
        return text


class UsageError(MailbotError):
    """The command line is wrong (unknown reference, bad option value…)."""

    exit_code = 2


class AlreadyRunningError(MailbotError):
    """Another ``mailbot run`` already works on this SQLite database."""

    exit_code = 2


class StoreError(MailbotError):
    """The database cannot be reached or is not at the expected schema."""


class NotFoundError(StoreError):
    """A referenced object (entry, GP, message) does not exist."""

    exit_code = 2


class TransportError(MailbotError):
    """A mail transport failed (connection, protocol, authentication)."""


class TransportTemporaryError(TransportError):
    """A failure worth retrying later (network down, 4xx answer, timeout)."""


class TransportPermanentError(TransportError):
    """A failure that retrying will not fix (5xx answer, refused login)."""


class TLSConfigError(TransportError):
    """Certificates or keys are missing, unreadable or do not match."""

    exit_code = 2


class RouteError(MailbotError):
    """No outbound route may carry this mail."""


class HealthDataOnInsecureRoute(RouteError):
    """A mail carrying health data was about to leave on a non-secure route."""


class TemplateError(MailbotError):
    """A mail template is missing or failed to render."""


class DkimTemporaryError(MailbotError):
    """A DKIM key could not be fetched (DNS time-out): the mail is retried later."""


class GpgError(MailbotError):
    """The GnuPG keyring is missing, unsafe (rights wider than 0700) or a key is unusable."""

    exit_code = 2


class EncryptionRequiredError(GpgError):
    """A route requires encryption and the recipient has no known key: nothing is sent."""
