"""Pure parsers: bytes or ``email.message`` in, typed results out.
May import nothing of store or mailbot: pure functions only.

Nothing here touches the database, the network or the clock (callers pass
``today``). Nothing here raises on user input: problems are returned as data.
"""
