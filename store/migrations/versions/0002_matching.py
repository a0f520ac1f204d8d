"""matching tables: GPs, the places they serve, their history, proposals and follow-ups

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rpps', sa.String(length=11), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=False),
    sa.Column('prenom', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('cabinet', sa.String(length=200), nullable=True),
    sa.Column('adresse', sa.Text(), nullable=True),
    sa.Column('telephone', sa.String(length=20), nullable=True),
    sa.Column('accepting', sa.Boolean(), nullable=False),
    sa.Column('capacity_per_month', sa.Integer(), nullable=False),
    sa.Column('max_open_proposals', sa.Integer(), nullable=False),
    sa.Column('age_bands', sa.JSON(), nullable=False),
    sa.Column('accepts_ald', sa.Boolean(), nullable=False),
    sa.Column('accepts_complex', sa.Boolean(), nullable=False),
    sa.Column('home_visits', sa.Boolean(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('accepting_changed_at', store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gp')),
    sa.UniqueConstraint('email', name=op.f('uq_gp_email')),
    sa.UniqueConstraint('rpps', name=op.f('uq_gp_rpps'))
    )
    op.create_table('gp_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gp_id', sa.Integer(), nullable=False),
    sa.Column('code_postal', sa.String(length=5), nullable=False),
    sa.Column('commune', sa.String(length=200), nullable=True),
    sa.Column('commune_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['gp_id'], ['gp.id'], name=op.f('fk_gp_area_gp_id_gp')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gp_area'))
    )
    op.create_index(op.f('ix_gp_area_gp_id'), 'gp_area', ['gp_id'], unique=False)
    op.create_index(op.f('ix_gp_area_code_postal'), 'gp_area', ['code_postal'], unique=False)
    op.create_table('gp_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gp_id', sa.Integer(), nullable=False),
    sa.Column('at', store.types.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['gp_id'], ['gp.id'], name=op.f('fk_gp_event_gp_id_gp')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gp_event'))
    )
    op.create_index(op.f('ix_gp_event_gp_id'), 'gp_event', ['gp_id'], unique=False)
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('gp_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('complex', sa.Boolean(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('created_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', store.types.UTCDateTime(), nullable=False),
    sa.Column('reminded_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=True),
    sa.Column('inbound_message_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('followup_state', sa.String(length=20), nullable=True),
    sa.Column('followup_asked_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('followup_reminded_at', store.types.UTCDateTime(), nullable=True),
    sa.Column('followup_decided_at', store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_proposal_entry_id_entry')),
    sa.ForeignKeyConstraint(['gp_id'], ['gp.id'], name=op.f('fk_proposal_gp_id_gp')),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_message.id'], name=op.f('fk_proposal_inbound_message_id_inbound_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    op.create_index(op.f('ix_proposal_entry_id'), 'proposal', ['entry_id'], unique=False)
    op.create_index('ix_proposal_gp_state', 'proposal', ['gp_id', 'state'], unique=False)
    op.create_index('ix_proposal_gp_entry', 'proposal', ['gp_id', 'entry_id'], unique=False)
    op.create_index('ix_proposal_state_expires', 'proposal', ['state', 'expires_at'], unique=False)
    op.create_index('ix_proposal_followup', 'proposal', ['followup_state', 'decided_at'], unique=False)
    op.create_index('ux_proposal_entry_pending', 'proposal', ['entry_id'], unique=True,
                    sqlite_where=sa.text("state = 'pending'"),
                    postgresql_where=sa.text("state = 'pending'"))


def downgrade() -> None:
    op.drop_index('ux_proposal_entry_pending', table_name='proposal')
    op.drop_index('ix_proposal_followup', table_name='proposal')
    op.drop_index('ix_proposal_state_expires', table_name='proposal')
    op.drop_index('ix_proposal_gp_entry', table_name='proposal')
    op.drop_index('ix_proposal_gp_state', table_name='proposal')
    op.drop_index(op.f('ix_proposal_entry_id'), table_name='proposal')
    op.drop_table('proposal')
    op.drop_index(op.f('ix_gp_event_gp_id'), table_name='gp_event')
    op.drop_table('gp_event')
    op.drop_index(op.f('ix_gp_area_code_postal'), table_name='gp_area')
    op.drop_index(op.f('ix_gp_area_gp_id'), table_name='gp_area')
    op.drop_table('gp_area')
    op.drop_table('gp')
