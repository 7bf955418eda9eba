"""Jobs that wait for their time: ``jobs.run_at`` (the reconciler hands them to RQ once it has come).

Revision ID: 3f9a7d2e6b18
Revises: 8d2f4a6b1c37
Create Date: 2026-12-03 07:40:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = '3f9a7d2e6b18'
down_revision = '8d2f4a6b1c37'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.add_column(sa.Column('run_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.drop_column('run_at')
