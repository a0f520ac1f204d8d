"""DKIM (dkimpy): a signature that fails, or none where ``require_dkim`` wants one → quarantine.

A mail passes when at least one of its ``DKIM-Signature`` headers verifies. A
domain listed in ``[senders] require_dkim`` needs a valid signature whose ``d=``
is the ``From:`` domain or a parent of it. A DNS time-out is not a verdict: it
raises :class:`~mailbot.errors.DkimTemporaryError`, the mail stays ``received``
and is retried at the next pass (escalated after three failures).
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

from mailbot.errors import DkimTemporaryError
from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from parsers.addresses import aligned, domain_of
from store.models import InboundState

NAME = "dkim_signature"
DESCRIPTION = "DKIM signature that fails, or missing for a require_dkim domain"


def signing_domains(raw: bytes, count: int, dns_txt: Callable[..., bytes | None] | None,
                    ) -> tuple[list[str], int]:
    """The ``d=`` domains of the signatures that verify, and how many failed."""
    import dkim  # dkimpy and dnspython are long to import: only for mails that are signed

    passed: list[str] = []
    failed = 0
    timed_out = False

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        nonlocal timed_out
        try:
            found = (dns_txt or dkim.get_txt)(name, timeout=timeout)
        except dkim.DnsTimeoutError:
            timed_out = True
            raise
        return found if found is None or isinstance(found, bytes) else bytes(found)

    for index in range(count):
        verifier = dkim.DKIM(raw)
        try:
            ok = verifier.verify(idx=index, dnsfunc=lookup)
        except Exception:  # hostile or broken headers make dkimpy raise more than DKIMException
            ok = False
        if timed_out:
            raise DkimTemporaryError("clé DKIM injoignable (DNS), nouvel essai au prochain passage")
        if ok and verifier.domain:
            passed.append(verifier.domain.decode("ascii", "replace").lower())
        else:
            failed += 1
    return passed, failed


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine a failing DKIM signature, or a required one that is missing."""
    count = len(msg.get_all("DKIM-Signature") or [])
    if count == 0 and not ctx.dkim_required:
        return None
    passed, _failed = signing_domains(ctx.raw, count, ctx.dns_txt) if count else ([], 0)
    if count and not passed:
        return Verdict("dkim_fail", "signature DKIM invalide : message peut-être usurpé ou modifié",
                       InboundState.QUARANTINED)
    if ctx.dkim_required:
        domain = domain_of(ctx.sender) or ""
        if not count:
            return Verdict("dkim_missing", f"message non signé (DKIM) alors que le domaine {domain} "
                           "doit signer ses messages", InboundState.QUARANTINED)
        if not any(aligned(domain, signer) for signer in passed):
            return Verdict("dkim_missing", f"signature DKIM valide mais pas du domaine {domain}",
                           InboundState.QUARANTINED)
    return None
