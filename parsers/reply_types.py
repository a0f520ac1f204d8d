"""Typed results of the reply classifiers (patients' and GPs' answers).

Every result carries the ``rule`` that decided it and the ``evidence`` (the
words of the reply, normalised, that the rule matched), so that a decision can
be shown and checked later; neither takes part in equality.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["GPContext", "GPIntent", "GPReply", "PatientAnswer", "PatientReply"]

PatientAnswer = Literal["yes", "no", "stop", "unclear"]
GPIntent = Literal[
    "accept", "decline", "became_mt", "not_mt", "pending", "pause", "resume", "capacity",
    "request", "unclear",
]
GPContext = Literal["proposal", "followup", "any"]


@dataclass(frozen=True)
class PatientReply:
    """A patient's answer: ``yes`` = still looking, ``no`` = no longer looking.

    ``stop`` = asks not to be written to any more (an opt-out). ``doctor_name``
    ("Dr Martin") is set only for ``no`` when the patient names the doctor
    found; ``reason`` is a short machine-readable code (the rule).
    """

    answer: PatientAnswer
    doctor_name: str | None
    reason: str
    evidence: str = field(default="", compare=False)


@dataclass(frozen=True)
class GPReply:
    """A GP's answer or command.

    ``reason`` for declines, ``number`` for CAPACITE/DEMANDE, ``date`` for a
    *pending* follow-up answer that names the day of the next consultation.
    """

    intent: GPIntent
    reason: str | None = None
    number: int | None = None
    date: dt.date | None = None
    rule: str = field(default="", compare=False)
    evidence: str = field(default="", compare=False)
