"""replies as fast as referrals: tokens looked up by (kind, object)

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- issue 14: replies as fast as referrals ---- begin
    # A proposal's (or follow-up's) tokens are closed and its first mail found by
    # (kind, object_id) on every GP answer: without an index, a scan of every token.
    op.create_index('ix_token_kind_object', 'token', ['kind', 'object_id'], unique=False)
    # ---- issue 14 ---- end


def downgrade() -> None:
    # ---- issue 14 ---- begin
    op.drop_index('ix_token_kind_object', table_name='token')
    # ---- issue 14 ---- end
