"""Background jobs recorded in the database (the reconciler re-enqueues what Redis lost), and the
msgid and WeChat's delivery report of each template message a reminder sent.

Revision ID: 5e1b7c2a9d40
Revises: 4c691660b842
Create Date: 2026-12-03 00:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

# revision identifiers, used by Alembic.
revision = '5e1b7c2a9d40'
down_revision = '4c691660b842'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UNFINISHED = sa.text("state IN ('queued', 'running')")


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', JSON, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=True),
    sa.Column('progress_message', sa.String(length=200), nullable=True),
    sa.Column('result', JSON, nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.String(length=500), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=96), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('enqueued_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_state')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_jobs_meeting_id_meetings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_jobs_unit_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_jobs_unfinished', ['state', 'id'], unique=False,
                              postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)

    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('msgid', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('wechat_status', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_reminder_deliveries_msgid'), ['msgid'], unique=False)


def downgrade():
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_deliveries_msgid'))
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('wechat_status')
        batch_op.drop_column('msgid')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_unfinished', postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)
        batch_op.drop_index(batch_op.f('ix_jobs_meeting_id'))

    op.drop_table('jobs')
