"""replies: the rule and evidence of each reply decision, follow-up "pending", recontact opt-out

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 15: replies understood, or escalated, never guessed ---- begin
    op.add_column('inbound_message', sa.Column('decision_rule', sa.String(60), nullable=True))
    op.add_column('inbound_message', sa.Column('decision_evidence', sa.String(200), nullable=True))
    op.add_column('proposal', sa.Column('followup_next_at', UTCDateTime(), nullable=True))
    op.add_column('entry', sa.Column('recontact_opt_out_at', UTCDateTime(), nullable=True))
    # ---- issue 15 ---- end


def downgrade() -> None:
    # ---- issue 15 ---- begin
    with op.batch_alter_table('entry') as batch:
        batch.drop_column('recontact_opt_out_at')
    with op.batch_alter_table('proposal') as batch:
        batch.drop_column('followup_next_at')
    with op.batch_alter_table('inbound_message') as batch:
        batch.drop_column('decision_evidence')
        batch.drop_column('decision_rule')
    # ---- issue 15 ---- end
