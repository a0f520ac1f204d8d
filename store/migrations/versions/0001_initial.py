"""initial schema: inbound, entries, outbox, tokens, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 09:00:02.416272
"""
from alembic import op
import sqlalchemy as sa

import store.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=30), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    op.create_table('job_run',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('last_run_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_clock', store.types.UTCDateTime(), nullable=True),
    sa.Column('last_status', sa.String(length=20), nullable=True),
    sa.Column('last_summary', sa.String(length=500), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_run'))
    )
    op.create_table('entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('received_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('status_changed_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('referrer_email', sa.String(length=320), nullable=True),
    sa.Column('referrer_name', sa.String(length=200), nullable=True),
    sa.Column('source_message_id', sa.String(length=998), nullable=True),
    sa.Column('source_inbound_id', sa.Integer(), nullable=True),
    sa.Column('identity_key', sa.String(length=300), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=True),
    sa.Column('nom_usage', sa.String(length=200), nullable=True),
    sa.Column('prenom', sa.String(length=200), nullable=True),
    sa.Column('date_naissance', sa.Date(), nullable=True),
    sa.Column('sexe', sa.String(length=1), nullable=True),
    sa.Column('ins', sa.String(length=15), nullable=True),
    sa.Column('telephone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('adresse', sa.Text(), nullable=True),
    sa.Column('code_postal', sa.String(length=5), nullable=True),
    sa.Column('commune', sa.String(length=200), nullable=True),
    sa.Column('ald', sa.Boolean(), nullable=False),
    sa.Column('css', sa.Boolean(), nullable=False),
    sa.Column('ame', sa.Boolean(), nullable=False),
    sa.Column('mobilite_reduite', sa.Boolean(), nullable=False),
    sa.Column('situation_complexe', sa.Boolean(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('motif', sa.Text(), nullable=True),
    sa.Column('ancien_medecin', sa.Text(), nullable=True),
    sa.Column('aidant', sa.Text(), nullable=True),
    sa.Column('consentement', sa.Boolean(), nullable=True),
    sa.Column('referent_nom', sa.String(length=200), nullable=True),
    sa.Column('referent_structure', sa.String(length=200), nullable=True),
    sa.Column('referent_telephone', sa.String(length=20), nullable=True),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('resolution', sa.String(length=200), nullable=True),
    sa.Column('closed_reason', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry')),
    sa.UniqueConstraint('ref', name=op.f('uq_entry_ref'))
    )
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_code_postal'), ['code_postal'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_identity_key'), ['identity_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_ins'), ['ins'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_entry_status'), ['status'], unique=False)
        batch_op.create_index('ix_entry_status_received', ['status', 'received_at'], unique=False)

    op.create_table('inbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transport_key', sa.String(length=255), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=True),
    sa.Column('received_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('duplicate_of', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('raw_destroyed_at', store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['duplicate_of'], ['inbound_message.id'], name=op.f('fk_inbound_message_duplicate_of_inbound_message')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_inbound_message_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_message'))
    )
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_message_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_message_transport_key'), ['transport_key'], unique=False)

    op.create_table('token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('outbox_message_id', sa.String(length=998), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_token_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_token')),
    sa.UniqueConstraint('code', name=op.f('uq_token_code'))
    )
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_token_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_token_outbox_message_id'), ['outbox_message_id'], unique=False)

    op.create_table('entry_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_entry_event_entry_id_entry')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_entry_event_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_event'))
    )
    with op.batch_alter_table('entry_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_event_entry_id'), ['entry_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('health_data', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('route', sa.String(length=100), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_outbox_entry_id_entry')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_outbox_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_outbox_recipient_created', ['recipient', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_state'), ['state'], unique=False)
    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('subject_ref', sa.String(length=60), nullable=True),
    sa.Column('notified_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_alert_entry_id_entry')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_alert_inbound_message_id_inbound_message')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_alert_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert'))
    )
    op.create_index(op.f('ix_alert_created_at'), 'alert', ['created_at'], unique=False)
    op.create_index(op.f('ix_alert_kind'), 'alert', ['kind'], unique=False)
    op.create_index(op.f('ix_alert_entry_id'), 'alert', ['entry_id'], unique=False)


def downgrade() -> None:
    op.drop_table('alert')
    op.drop_table('job_run')
    
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_recipient_created')
        batch_op.drop_index(batch_op.f('ix_outbox_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_entry_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('entry_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_event_entry_id'))

    op.drop_table('entry_event')
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_token_outbox_message_id'))
        batch_op.drop_index(batch_op.f('ix_token_entry_id'))

    op.drop_table('token')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_message_transport_key'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_state'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_sha256'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_message_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_entry_id'))

    op.drop_table('inbound_message')
    with op.batch_alter_table('entry', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_status_received')
        batch_op.drop_index(batch_op.f('ix_entry_status'))
        batch_op.drop_index(batch_op.f('ix_entry_received_at'))
        batch_op.drop_index(batch_op.f('ix_entry_ins'))
        batch_op.drop_index(batch_op.f('ix_entry_identity_key'))
        batch_op.drop_index(batch_op.f('ix_entry_code_postal'))

    op.drop_table('entry')
    op.drop_table('audit_log')
    
