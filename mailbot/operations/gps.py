"""What coordinators do to GPs: pause, resume, and propose an entry to one of them."""

from __future__ import annotations

import re

from mailbot.clock import local_date
from mailbot.errors import NotFoundError, UsageError
from mailbot.operations.context import OpContext, resolve_alerts
from mailbot.operations.labels import PROPOSAL_ALERT_KINDS, STATUS_LABELS
from store import gps
from store.models import Entry, EntryStatus
from store.models_matching import GP


def find_gp(ctx: OpContext, text: str) -> GP:
    """The GP with this RPPS number; UsageError when unreadable, NotFoundError when unknown."""
    rpps = re.sub(r"[\s.]", "", text)
    if not gps.is_valid_rpps(rpps):
        raise UsageError(f"numéro RPPS illisible « {text.strip()[:20]} » : 11 chiffres, "
                         "ex. 10001234567")
    gp = gps.get_by_rpps(ctx.session, rpps)
    if gp is None:
        raise NotFoundError(f"aucun médecin de RPPS {rpps} dans le registre (mailbot gps list)")
    return gp


def change_gp_accepting(ctx: OpContext, rpps_text: str, accepting: bool) -> tuple[GP, bool]:
    """Pause (``False``) or resume (``True``) proposals to a GP; return it and whether it changed.

    Resuming settles the GP's open alerts (paused, no capacity…): the digest stops listing them.
    """
    gp = find_gp(ctx, rpps_text)
    changed = gps.set_accepting(ctx.session, gp, accepting, now=ctx.now, actor=ctx.actor,
                                inbound_id=ctx.inbound_id)
    if accepting:
        resolve_alerts(ctx, subject_ref=gp.rpps, prefix="gp_")
    return gp, changed


def set_gp_accepting(ctx: OpContext, rpps_text: str, accepting: bool) -> str:
    """Pause (``False``) or resume (``True``) proposals to a GP (``PAUSE``/``REPRISE``)."""
    gp, changed = change_gp_accepting(ctx, rpps_text, accepting)
    if accepting:
        if not changed:
            return f"{gp.display_name} ({gp.rpps}) recevait déjà des propositions : rien à changer."
        return f"{gp.display_name} ({gp.rpps}) reçoit de nouveau des propositions."
    if not changed:
        return f"{gp.display_name} ({gp.rpps}) était déjà en pause : rien à changer."
    return (f"{gp.display_name} ({gp.rpps}) est en pause : plus aucune proposition jusqu'à "
            f"REPRISE {gp.rpps}.")


def propose_entry(ctx: OpContext, entry: Entry, rpps_text: str) -> str:
    """Propose a waiting entry to one GP now: issue 5's *forced* proposal (mail, expiry, follow-up).

    The GP must accept proposals (not paused); a GP outside the entry's
    commune or criteria is allowed — the coordinator decides — and said.
    """
    # Imported here: matching is needed by this operation only, not by every mail's dispatch.
    from mailbot.matching.pool import compatible
    from mailbot.workflows import proposals

    gp = find_gp(ctx, rpps_text)
    if entry.status != EntryStatus.WAITING:
        raise UsageError(f"{entry.ref} est {STATUS_LABELS[entry.status]} : seule une inscription "
                         "en attente d'un médecin peut être proposée")
    if not gp.accepting:
        raise UsageError(f"{gp.display_name} ({gp.rpps}) est en pause : REPRISE {gp.rpps} d'abord, "
                         "s'il est d'accord")
    proposals.propose(ctx.app, ctx.session, entry, gp, ctx.now, ctx.actor, forced=True,
                      inbound_id=ctx.inbound_id)
    resolve_alerts(ctx, entry_id=entry.id, kinds=PROPOSAL_ALERT_KINDS)
    warning = ("" if compatible(gp, entry, local_date(ctx.now)) else
               " Attention : ce patient ne correspond pas aux critères ou aux communes déclarés "
               "par ce médecin.")
    return f"{entry.ref} proposée à {gp.display_name} ({gp.rpps}) : il a reçu la proposition.{warning}"
