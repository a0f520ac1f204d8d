"""The store: SQLAlchemy 2 models, repositories and Alembic migrations of the waitlist.
May import nothing of mailbot or parsers: it knows no mail, only rows.
"""
