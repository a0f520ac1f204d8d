"""outbox: when a direct send started, so that a mail is never sent twice

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 4: "never resent once accepted", even across a crash ---- begin
    op.add_column('outbox', sa.Column('attempt_started_at', UTCDateTime(), nullable=True))
    # ---- issue 4 ---- end


def downgrade() -> None:
    # ---- issue 4 ---- begin
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('attempt_started_at')
    # ---- issue 4 ---- end
