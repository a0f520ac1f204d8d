"""Matching waiting patients with volunteer GPs.
May import outbound, stats.groups, the kernel, config, store and parsers; workflows import it.

* :mod:`~mailbot.matching.criteria` — priority groups and the age bands a GP may accept;
* :mod:`~mailbot.matching.policy` — the configured order (fifo, criteria, weighted) as SQL,
  and the explanation of one entry's place;
* :mod:`~mailbot.matching.pool` — the waiting entries read once, and each GP's compatible
  share of them (places, age bands, criteria, never proposed to him before);
* :mod:`~mailbot.matching.offer` — creating proposals (rows, statuses, audit, mails);
* :mod:`~mailbot.matching.round` — filling a GP's free slots, and the scheduled round;
* :mod:`~mailbot.matching.contact` — what each side receives after an acceptance;
* :mod:`~mailbot.matching.describe` — what a proposal mail may say (no identity);
* :mod:`~mailbot.matching.explain` — the explanation as people read it (``entries show``);
* :mod:`~mailbot.matching.fairness` — waiting time by priority group;
* :mod:`~mailbot.matching.gp_fields` — reading GP data typed on the command line or in a CSV;
* :mod:`~mailbot.matching.sqlfuncs` — the few SQL expressions that differ by backend.

The workflows around proposals (answers, reminders, expiry, follow-up, GP
commands) live in :mod:`mailbot.workflows`; the tables in
:mod:`store.models_matching`, with :mod:`store.gps` and :mod:`store.proposals`.
"""
