"""Alembic migrations of the store (``versions/``, one file per revision).

:data:`HEAD` names the newest revision: ``mailbot run`` compares the database's
revision with it without loading Alembic (a quarter of a second at every start).
A new migration must update it; ``tests/test_store.py`` checks that it is
Alembic's own head.
"""

HEAD = "0010"
