"""several daemons: leased inbound claims, who started a send, workers, job occurrences

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 14: leases for the claims of a killed process ---- begin
    op.add_column('inbound_message', sa.Column('claimed_by', sa.String(100), nullable=True))
    op.add_column('inbound_message', sa.Column('lease_until', UTCDateTime(), nullable=True))
    op.add_column('outbox', sa.Column('attempt_started_by', sa.String(100), nullable=True))
    op.create_table('worker',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker'))
    )
    op.create_index(op.f('ix_worker_expires_at'), 'worker', ['expires_at'], unique=False)
    op.create_table('job_occurrence',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('fire_at', UTCDateTime(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', 'fire_at', name=op.f('pk_job_occurrence'))
    )
    # ---- issue 14 ---- end


def downgrade() -> None:
    # ---- issue 14 ---- begin
    op.drop_table('job_occurrence')
    op.drop_index(op.f('ix_worker_expires_at'), table_name='worker')
    op.drop_table('worker')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('attempt_started_by')
    with op.batch_alter_table('inbound_message') as batch:
        batch.drop_column('lease_until')
        batch.drop_column('claimed_by')
    # ---- issue 14 ---- end
