"""The big screen's link can be replaced: a per-meeting key version.

Revision ID: 8d2f4a6b1c37
Revises: 5e1b7c2a9d40
Create Date: 2026-12-03 02:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8d2f4a6b1c37'
down_revision = '5e1b7c2a9d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings') as batch_op:
        batch_op.add_column(sa.Column('screen_key_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('meetings') as batch_op:
        batch_op.drop_column('screen_key_version')
