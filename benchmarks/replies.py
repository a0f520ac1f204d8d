"""Replies benchmark (issue 15): the three labelled corpora through the real classifiers.

* **Corpora** ``tests/data/replies/unseen/``: GP answers to a proposal
  (``gp``), patient answers to "still looking?" (``patient``) and GP answers to
  "did you become the médecin traitant?" (``followup``). Precision and the
  share of decidable replies decided right are reported for the held-out part
  (the JSON keys) and the dev part, with the same figures for the baseline.
* **Speed**: every whole reply body (quoted question, signature and all)
  classified ``--rounds`` times by ``classify_gp_reply`` /
  ``classify_patient_reply``; the **baseline**, in the same run, on the same
  texts, is a trivial keyword matcher (first line: "oui" → yes, "non" → no).
  Half of the baseline runs before, half after, so that load weighs on both.

The last line is one JSON object.

    python benchmarks/replies.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parsers.replies import classify_gp_reply, classify_patient_reply  # noqa: E402

UNSEEN = ROOT / "tests" / "data" / "replies" / "unseen"
KINDS = {"gp": "proposal", "patient": "recontact", "followup": "followup"}
# What a trivial matcher answers "oui" / "non" with, per kind.
_YES_NO = {"gp": ("accept", "decline"), "patient": ("yes", "no"),
           "followup": ("became_mt", "not_mt")}
_WORD = re.compile(r"\b(oui|non)\b", re.IGNORECASE)


def rows(kind: str, part: str) -> list[dict[str, Any]]:
    """The corpus rows of ``kind`` (gp, patient, followup) and ``part`` (dev, heldout)."""
    path = UNSEEN / f"{KINDS[kind]}_{part}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def real(kind: str) -> Callable[[dict[str, Any]], tuple[str, bool]]:
    """The real classifier of ``kind``: row → (decision, correct)."""
    def classify(row: dict[str, Any]) -> tuple[str, bool]:
        if kind == "patient":
            got = classify_patient_reply(row["text"]).answer
            return got, got == row["expected"]
        today = dt.date.fromisoformat(row["received"]) if "received" in row else None
        reply = classify_gp_reply(row["text"], context=row["context"], today=today)
        ok = reply.intent == row["expected"]
        if ok and "date" in row:
            ok = reply.date is not None and reply.date.isoformat() == row["date"]
        return reply.intent, ok
    return classify


def baseline(kind: str) -> Callable[[dict[str, Any]], tuple[str, bool]]:
    """The trivial keyword matcher: "oui" or "non" on the first line decides."""
    yes, no = _YES_NO[kind]

    def classify(row: dict[str, Any]) -> tuple[str, bool]:
        first = row["text"].strip().split("\n", 1)[0]
        words = {w.lower() for w in _WORD.findall(first)}
        got = yes if words == {"oui"} else no if words == {"non"} else "unclear"
        return got, got == row["expected"]
    return classify


def figures(items: list[dict[str, Any]], classify: Callable[[dict[str, Any]], tuple[str, bool]],
            ) -> tuple[float, float]:
    """(precision of the decisions, share of decidable replies decided right)."""
    decided = right = decidable = decidable_right = 0
    for row in items:
        got, ok = classify(row)
        if got != "unclear":
            decided += 1
            right += ok
        if row["expected"] != "unclear":
            decidable += 1
            decidable_right += got != "unclear" and ok
    return (right / decided if decided else 1.0,
            decidable_right / decidable if decidable else 1.0)


def speed(jobs: list[tuple[Callable[[dict[str, Any]], tuple[str, bool]], dict[str, Any]]],
          rounds: int) -> float:
    """Replies classified per second over ``rounds`` passes of ``jobs``."""
    start = time.perf_counter()
    for _ in range(rounds):
        for classify, row in jobs:
            classify(row)
    return len(jobs) * rounds / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print its figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    result: dict[str, Any] = {}
    print(f"{'kind':<10}{'part':<9}{'items':>6}{'precision':>11}{'share':>8}"
          f"{'base prec.':>12}{'base share':>12}")
    for kind in KINDS:
        for part in ("dev", "heldout"):
            items = rows(kind, part)
            precision, share = figures(items, real(kind))
            base_p, base_s = figures(items, baseline(kind))
            print(f"{kind:<10}{part:<9}{len(items):>6}{precision:>11.3f}{share:>8.3f}"
                  f"{base_p:>12.3f}{base_s:>12.3f}")
            suffix = "" if part == "heldout" else "_dev"
            result[f"{kind}_precision{suffix}"] = round(precision, 3)
            result[f"{kind}_share{suffix}"] = round(share, 3)
            if part == "heldout":
                result[f"{kind}_baseline_precision"] = round(base_p, 3)
                result[f"{kind}_baseline_share"] = round(base_s, 3)
    every = [row for kind in KINDS for part in ("dev", "heldout") for row in rows(kind, part)]
    kinds = [kind for kind in KINDS for part in ("dev", "heldout") for _ in rows(kind, part)]
    real_jobs = [(real(k), row) for k, row in zip(kinds, every, strict=True)]
    base_jobs = [(baseline(k), row) for k, row in zip(kinds, every, strict=True)]
    half = max(1, args.rounds // 2)
    base_rate = (speed(base_jobs, half) + speed(base_jobs, half)) / 2 if args.rounds > 1 else 0.0
    real_rate = speed(real_jobs, args.rounds)
    if args.rounds <= 1:
        base_rate = speed(base_jobs, 1)
    print(f"classifiers: {real_rate:,.0f} replies/s ({1000 / real_rate:.2f} ms per reply); "
          f"keyword baseline: {base_rate:,.0f} replies/s; ratio {real_rate / base_rate:.3f}")
    result.update({"replies_per_s": round(real_rate, 1), "ms_per_reply": round(1000 / real_rate, 3),
                   "baseline_replies_per_s": round(base_rate, 1),
                   "ratio": round(real_rate / base_rate, 4), "replies": len(every),
                   "rounds": args.rounds})
    ordered = {k: result[k] for k in ("gp_precision", "gp_share", "patient_precision",
                                      "patient_share", "followup_precision", "followup_share",
                                      "replies_per_s")}
    print(json.dumps({**ordered, **result}))


if __name__ == "__main__":
    main()
