"""sender authentication: forged tokens seen, addresses quarantined

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 13: forged tokens and quarantined addresses ---- begin
    op.create_table('forged_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'],
                            name=op.f('fk_forged_token_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forged_token'))
    )
    op.create_index('ix_forged_token_address_at', 'forged_token', ['address', 'at'], unique=False)
    op.create_table('blocked_sender',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('forged_count', sa.Integer(), nullable=False),
    sa.Column('blocked_at', UTCDateTime(), nullable=False),
    sa.Column('lifted_at', UTCDateTime(), nullable=True),
    sa.Column('lifted_by', sa.String(length=320), nullable=True),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_blocked_sender'))
    )
    # ---- issue 13 ---- end


def downgrade() -> None:
    # ---- issue 13 ---- begin
    op.drop_table('blocked_sender')
    op.drop_index('ix_forged_token_address_at', table_name='forged_token')
    op.drop_table('forged_token')
    # ---- issue 13 ---- end
