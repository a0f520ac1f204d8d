"""``[recontact]``: the monthly "still looking?" mails and the call list."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from mailbot.config.base import Section

RecontactStatus = Literal["waiting", "incomplete"]


class RecontactConfig(Section):
    """Monthly "still looking?" mails and the call list (issue 6).

    A *round* is one question mail, then one reminder ``reminder_after_days``
    later (0: none); it is unanswered ``close_after_days`` after its last
    mail. After ``unanswered_rounds_before_call`` unanswered rounds in a row
    the entry goes on the coordinators' call list, as do entries with no
    e-mail address or a failing one.
    """

    enabled: bool = True
    statuses: list[RecontactStatus] = Field(default_factory=lambda: list[RecontactStatus](["waiting"]))
    interval_days: int = Field(default=30, ge=1)
    send_weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    send_from: str = "09:00"
    send_until: str = "18:00"
    reminder_after_days: int = Field(default=7, ge=0)
    close_after_days: int = Field(default=7, ge=1)
    unanswered_rounds_before_call: int = Field(default=1, ge=1)
    token_ttl_days: int = Field(default=60, ge=1)
    temporary_failures_before_failing: int = Field(default=3, ge=1)
    max_mails_per_run: int = Field(default=2000, ge=1)
    acknowledge_answers: bool = True

    @field_validator("send_weekdays")
    @classmethod
    def _weekdays(cls, values: list[int]) -> list[int]:
        if not values or any(not 1 <= v <= 7 for v in values):
            raise ValueError("des jours de 1 (lundi) à 7 (dimanche), ex. [1, 2, 3, 4, 5]")
        return sorted(set(values))

    @field_validator("send_from", "send_until")
    @classmethod
    def _clock_time(cls, value: str, info: Any) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) <= 24 and int(minutes) < 60
                and len(minutes) == 2 and int(hours) * 60 + int(minutes) <= 24 * 60):
            raise ValueError("une heure HH:MM, ex. \"09:00\"")
        value = f"{int(hours):02d}:{minutes}"
        start = info.data.get("send_from")
        if info.field_name == "send_until" and start and value <= start:
            raise ValueError(f"une heure après send_from ({start})")
        return value
