"""``mailbot import``: the waitlist a CPTS kept in a spreadsheet, registered in the bot.
May import workflows.problems, the kernel, store and parsers; cli imports it.

:mod:`~mailbot.importer.sheets` reads CSV and XLSX files,
:mod:`~mailbot.importer.columns` finds the header and what each column means,
:mod:`~mailbot.importer.rows` turns a row into fields, problems and a status,
:mod:`~mailbot.importer.run` registers the rows (duplicates, idempotency, audit).
"""
