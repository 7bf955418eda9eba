"""Revokes counted per session, so the live counters notice a revoke whose event was lost.

Revision ID: 9b4e1d7c2f60
Revises: 6c2e8b4f1a93
Create Date: 2026-12-03 08:35:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9b4e1d7c2f60'
down_revision = '6c2e8b4f1a93'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, not a batch: SQLite's batch copies the table, and the sign-in trigger that
    # names meeting_sessions would break on the rename.
    op.add_column('meeting_sessions', sa.Column('revokes', sa.Integer(), server_default='0', nullable=False))
    # Sessions revoked in before this column: their count, so the counters start level.
    op.execute("UPDATE meeting_sessions SET revokes = (SELECT count(*) FROM signins "
               "WHERE signins.session_id = meeting_sessions.id AND signins.revoked_at IS NOT NULL)")


def downgrade():
    op.drop_column('meeting_sessions', 'revokes')  # SQLite 3.35+ drops a column in place
