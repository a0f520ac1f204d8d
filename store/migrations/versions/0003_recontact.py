"""recontact tables

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recontact_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('opened_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('first_message_id', sa.String(length=998), nullable=False),
    sa.Column('reminder_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('reminder_message_id', sa.String(length=998), nullable=True),
    sa.Column('closed_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('unanswered_streak', sa.Integer(), nullable=False),
    sa.Column('answered_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('answer_inbound_id', sa.Integer(), nullable=True),
    sa.Column('answer_reason', sa.String(length=40), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('doctor_name', sa.String(length=200), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.Column('auto_replies', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_recontact_round_entry_id_entry')),
    sa.ForeignKeyConstraint(['answer_inbound_id'], ['inbound_message.id'], name=op.f('fk_recontact_round_answer_inbound_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recontact_round'))
    )
    op.create_index(op.f('ix_recontact_round_entry_id'), 'recontact_round', ['entry_id'], unique=False)
    op.create_index(op.f('ix_recontact_round_closed_at'), 'recontact_round', ['closed_at'], unique=False)
    op.create_index('ix_recontact_round_entry_opened', 'recontact_round', ['entry_id', 'opened_at'], unique=False)
    op.create_index(op.f('ix_recontact_round_address'), 'recontact_round', ['address'], unique=False)
    op.create_index(op.f('ix_recontact_round_first_message_id'), 'recontact_round', ['first_message_id'], unique=False)
    op.create_index(op.f('ix_recontact_round_reminder_message_id'), 'recontact_round', ['reminder_message_id'], unique=False)

    op.create_table('address_status',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('permanent_failures', sa.Integer(), nullable=False),
    sa.Column('temporary_failures', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.String(length=20), nullable=True),
    sa.Column('first_failure_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_failure_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('failing_since', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_address_status'))
    )
    op.create_index(op.f('ix_address_status_state'), 'address_status', ['state'], unique=False)

    op.create_table('address_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.String(length=998), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_address_event_entry_id_entry')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_address_event_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_event'))
    )
    op.create_index(op.f('ix_address_event_address'), 'address_event', ['address'], unique=False)
    op.create_index(op.f('ix_address_event_entry_id'), 'address_event', ['entry_id'], unique=False)

    op.create_table('call_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('added_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_outcome', sa.String(length=30), nullable=True),
    sa.Column('last_called_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_note', sa.Text(), nullable=True),
    sa.Column('closed_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_call_item_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_item'))
    )
    op.create_index(op.f('ix_call_item_entry_id'), 'call_item', ['entry_id'], unique=False)
    op.create_index(op.f('ix_call_item_closed_at'), 'call_item', ['closed_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_item_closed_at'), table_name='call_item')
    op.drop_index(op.f('ix_call_item_entry_id'), table_name='call_item')
    op.drop_table('call_item')
    op.drop_index(op.f('ix_address_event_entry_id'), table_name='address_event')
    op.drop_index(op.f('ix_address_event_address'), table_name='address_event')
    op.drop_table('address_event')
    op.drop_index(op.f('ix_address_status_state'), table_name='address_status')
    op.drop_table('address_status')
    op.drop_index(op.f('ix_recontact_round_reminder_message_id'), table_name='recontact_round')
    op.drop_index(op.f('ix_recontact_round_first_message_id'), table_name='recontact_round')
    op.drop_index(op.f('ix_recontact_round_address'), table_name='recontact_round')
    op.drop_index('ix_recontact_round_entry_opened', table_name='recontact_round')
    op.drop_index(op.f('ix_recontact_round_closed_at'), table_name='recontact_round')
    op.drop_index(op.f('ix_recontact_round_entry_id'), table_name='recontact_round')
    op.drop_table('recontact_round')
