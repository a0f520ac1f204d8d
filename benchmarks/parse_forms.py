"""Referral form parsing benchmark: CPU time per mail of ``body_text`` + ``parse_referral_message``.

Generates N varied referral mails (:mod:`benchmarks.mailgen`, one ``random.Random(seed)``
for the whole run, as the ingest benchmark does), parses their bytes once with
``email.message_from_bytes`` (``compat32`` policy, as the daemon does) and times,
with :func:`time.process_time` (CPU time: the machine may be shared), reading the
form of every mail: :func:`parsers.mime.body_text` then
:func:`parsers.referral.parse_referral_message` (which reads the body again itself;
each is also shown alone). In the same run the baseline is ``email.message_from_bytes``
alone on the same mails. Each figure is the best of ``--repeat`` passes. The last
line printed is one JSON object.

    python benchmarks/parse_forms.py [--count 2000] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.message
import email.policy
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mailgen import referral_mail  # noqa: E402
from parsers.mime import body_text  # noqa: E402
from parsers.referral import ReferralForm, parse_referral_message  # noqa: E402

TODAY = dt.date(2026, 11, 23)


def _best(repeat: int, run: Callable[[], object]) -> float:
    """The smallest CPU time (seconds) of ``repeat`` calls of ``run``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    raws = [referral_mail(rng, i) for i in range(args.count)]
    policy = email.policy.compat32

    def load() -> list[email.message.Message]:
        return [email.message_from_bytes(raw, policy=policy) for raw in raws]

    messages = load()
    forms = 0

    def bodies() -> None:
        for msg in messages:
            body_text(msg)

    def forms_only() -> None:  # parse_referral_message reads body_text itself
        for msg in messages:
            parse_referral_message(msg, today=TODAY)

    def parse() -> None:  # what the brief measures: body_text, then the form
        nonlocal forms
        forms = 0
        for msg in messages:
            body_text(msg)
            forms += isinstance(parse_referral_message(msg, today=TODAY), ReferralForm)

    baseline = _best(args.repeat, load) / args.count * 1000
    body_ms = _best(args.repeat, bodies) / args.count * 1000
    form_ms = _best(args.repeat, forms_only) / args.count * 1000
    parse_ms = _best(args.repeat, parse) / args.count * 1000
    print(f"{args.count} mails, {forms} read as forms, best of {args.repeat} (CPU time)")
    print(f"email.message_from_bytes alone (baseline): {baseline:.3f} ms per mail")
    print(f"body_text alone: {body_ms:.3f} ms per mail")
    print(f"parse_referral_message alone (body_text inside): {form_ms:.3f} ms per mail")
    print(f"body_text + parse_referral_message: {parse_ms:.3f} ms per mail")
    print(json.dumps({"parse_ms_per_mail": round(parse_ms, 4),
                      "baseline_ms_per_mail": round(baseline, 4)}))


if __name__ == "__main__":
    main()
