"""session 2: indexes for the statistics

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 7: statistics (confirmations per month read only "confirmed" events) ---- begin
    op.create_index('ix_entry_event_confirmed_at', 'entry_event', ['at'], unique=False,
                    postgresql_where=sa.text("kind = 'confirmed'"),
                    sqlite_where=sa.text("kind = 'confirmed'"))
    # ---- issue 7 ---- end


def downgrade() -> None:
    # ---- issue 7 ---- begin
    op.drop_index('ix_entry_event_confirmed_at', table_name='entry_event')
    # ---- issue 7 ---- end
