"""``mailbot stats``: the waitlist's figures for coordinators, the board and the CPAM.
May import the kernel (clock, errors), store and parsers; matching and cli import it.

:func:`~mailbot.stats.report.build_report` computes every figure in SQL
(:mod:`mailbot.stats.figures`, :mod:`mailbot.stats.partners`) into one JSON-ready
dict whose keys are documented in ``docs/stats.md``; the ``render_*`` modules turn
it into a terminal table, CSV or a self-contained HTML page with charts.
"""
