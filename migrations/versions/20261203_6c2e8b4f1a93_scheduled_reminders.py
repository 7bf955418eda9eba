"""Scheduled reminders: a reminder may be a session's schedule (``kind``, ``scheduled_for``,
``skip_reason``), one pending per session and kind.

Revision ID: 6c2e8b4f1a93
Revises: 3f9a7d2e6b18
Create Date: 2026-12-03 07:50:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = '6c2e8b4f1a93'
down_revision = '3f9a7d2e6b18'
branch_labels = None
depends_on = None

SCHEDULED = sa.text("status = 'scheduled'")


def upgrade():
    with op.batch_alter_table('reminders') as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('scheduled_for', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('skip_reason', sa.String(length=200), nullable=True))
        batch_op.create_index('uq_reminders_scheduled_kind', ['session_id', 'kind'], unique=True,
                              postgresql_where=SCHEDULED, sqlite_where=SCHEDULED)


def downgrade():
    with op.batch_alter_table('reminders') as batch_op:
        batch_op.drop_index('uq_reminders_scheduled_kind', postgresql_where=SCHEDULED, sqlite_where=SCHEDULED)
        batch_op.drop_column('skip_reason')
        batch_op.drop_column('scheduled_for')
        batch_op.drop_column('kind')
