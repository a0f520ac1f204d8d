"""What coordinators do to entries and GPs, shared by the commands by mail and the CLI.
May import workflows, matching, outbound, store and parsers; commands and cli import it.

``CLOTURER E-7QK2M9 décédé`` by mail and ``mailbot entries close E-7QK2M9
--reason décédé`` call the same function here, so their behaviour cannot
drift. Each function checks everything before it writes (a refused operation
leaves nothing behind), writes the entry's history and the audit trail with
its author (``coordinator:<address>`` or ``cli:<user>``), and returns one
French sentence for the coordinator.
"""

from mailbot.operations.context import OpContext, find_entry, parse_ref, resolve_alerts
from mailbot.operations.entries import (
    close_entry,
    complete_entry,
    entry_status,
    parse_close_reason,
    prioritize_entry,
    reopen_entry,
)
from mailbot.operations.gps import change_gp_accepting, find_gp, propose_entry, set_gp_accepting
from mailbot.operations.labels import (
    ACCEPTED_REASONS,
    CLOSE_REASONS,
    MAIL_KINDS,
    MAIL_STATES,
    STATUS_LABELS,
    STATUS_WORDS,
    status_from_text,
    status_word,
)
from mailbot.operations.mails import last_mail, resend_last_mail

__all__ = [
    "ACCEPTED_REASONS",
    "CLOSE_REASONS",
    "MAIL_KINDS",
    "MAIL_STATES",
    "STATUS_LABELS",
    "STATUS_WORDS",
    "OpContext",
    "change_gp_accepting",
    "close_entry",
    "complete_entry",
    "entry_status",
    "find_entry",
    "find_gp",
    "last_mail",
    "parse_close_reason",
    "parse_ref",
    "prioritize_entry",
    "propose_entry",
    "reopen_entry",
    "resend_last_mail",
    "resolve_alerts",
    "set_gp_accepting",
    "status_from_text",
    "status_word",
]
