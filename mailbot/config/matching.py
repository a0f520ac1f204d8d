"""``[matching]``: the priority policy, proposals to GPs and follow-ups."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from mailbot.config.base import Section

# Priority criteria of ``[matching]`` (keys of mailbot.matching.criteria.GROUPS).
MatchingGroup = Literal["under_6", "over_70", "ald", "css_ame", "urgent", "situation_complexe",
                        "mobilite_reduite", "priorite"]
_DEFAULT_GROUPS: list[MatchingGroup] = ["under_6", "over_70", "ald", "css_ame", "urgent"]
_DEFAULT_WEIGHTS: dict[MatchingGroup, float] = {
    "under_6": 60.0, "over_70": 30.0, "ald": 30.0, "css_ame": 30.0, "urgent": 90.0}


class MatchingConfig(Section):
    """GPs, priority policy, proposals and follow-ups (issue 5).

    ``policy``: ``fifo`` (registration date), ``criteria`` (the first of
    ``groups`` an entry belongs to, then registration date) or ``weighted``
    (days waited + the ``weights`` of the entry's criteria, highest first).
    ``mix_max_complex``: at most that many complex situations proposed to one
    GP per ``mix_period_days`` (absent: no limit). A proposal unanswered for
    ``proposal_reminder_days`` gets one reminder and expires after
    ``proposal_expiry_days``; ``followup_after_days`` after a match the GP is
    asked whether he became the médecin traitant (reminder, then no answer).
    An answer "not yet" (*pending*) is asked again the day after the day it
    names, or ``followup_pending_days`` later when it names none (at most
    ``followup_pending_max_days`` later); the entry stays ``matched``.
    """

    policy: Literal["fifo", "criteria", "weighted"] = "fifo"
    groups: list[MatchingGroup] = Field(default_factory=lambda: list(_DEFAULT_GROUPS))
    weights: dict[MatchingGroup, float] = Field(default_factory=lambda: dict(_DEFAULT_WEIGHTS))
    mix_max_complex: int | None = Field(default=None, ge=0)
    mix_period_days: int = Field(default=30, ge=1)
    proposal_reminder_days: float = Field(default=3.0, gt=0)
    proposal_expiry_days: float = Field(default=7.0, gt=0)
    followup_after_days: float = Field(default=30.0, gt=0)
    followup_reminder_days: float = Field(default=7.0, gt=0)
    followup_expiry_days: float = Field(default=14.0, gt=0)
    followup_pending_days: float = Field(default=14.0, gt=0)
    followup_pending_max_days: float = Field(default=90.0, gt=0)
    default_capacity_per_month: int = Field(default=2, ge=0)
    default_max_open_proposals: int = Field(default=1, ge=1)

    @field_validator("groups")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("chaque critère une seule fois, dans l'ordre de priorité")
        return values

    @field_validator("proposal_expiry_days", "followup_expiry_days")
    @classmethod
    def _after_reminder(cls, value: float, info: Any) -> float:
        """An expiry comes after its reminder (``proposal_…`` or ``followup_…``)."""
        reminder_key = info.field_name.replace("_expiry_days", "_reminder_days")
        reminder = info.data.get(reminder_key)
        if reminder is not None and value <= reminder:
            raise ValueError(f"un délai plus long que {reminder_key} ({reminder})")
        return value
