"""coordination tables

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 7: import of existing waitlists (mailbot import) ---- begin
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_file_sha256'), ['file_sha256'], unique=False)

    op.create_table('import_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('sheet', sa.String(length=100), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_import_row_batch_id_import_batch')),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_import_row_entry_id_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row')),
    sa.UniqueConstraint('file_sha256', 'sheet', 'row_number', name='uq_import_row_file_sheet_row')
    )
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_row_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_row_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_row_fingerprint'), ['fingerprint'], unique=False)
    # ---- issue 7: import of existing waitlists ---- end
    # ---- issue 7: escalation digest ---- begin
    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('new_items', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_run'))
    )
    with op.batch_alter_table('digest_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_run_at'), ['at'], unique=False)

    op.create_table('inbound_notice',
    sa.Column('inbound_message_id', sa.Integer(), nullable=False),
    sa.Column('notified_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('digest_run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['digest_run_id'], ['digest_run.id'], name=op.f('fk_inbound_notice_digest_run_id_digest_run')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_inbound_notice_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('inbound_message_id', name=op.f('pk_inbound_notice'))
    )
    with op.batch_alter_table('inbound_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_notice_notified_at'), ['notified_at'], unique=False)
    # ---- issue 7: escalation digest ---- end


def downgrade() -> None:
    # ---- issue 7: escalation digest ---- begin
    op.drop_table('inbound_notice')
    op.drop_table('digest_run')
    # ---- issue 7: escalation digest ---- end
    # ---- issue 7: import of existing waitlists ---- begin
    op.drop_table('import_row')
    op.drop_table('import_batch')
    # ---- issue 7: import of existing waitlists ---- end
