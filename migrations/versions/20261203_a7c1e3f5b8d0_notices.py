"""Notices (会议通知) with 回执 and 请假, and per-channel deliveries.

Revision ID: a7c1e3f5b8d0
Revises: 9b4e1d7c2f60
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

# revision identifiers, used by Alembic.
revision = 'a7c1e3f5b8d0'
down_revision = '9b4e1d7c2f60'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
NOW = sa.text('CURRENT_TIMESTAMP')
UTC = models.base.UTCDateTime(timezone=True)


def upgrade():
    # Plain ADD COLUMNs, not batches: SQLite's batch copies the table, and the sign-in trigger that
    # names these tables would break on the rename.
    op.add_column('meetings', sa.Column('sms_fallback', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('reminder_deliveries', sa.Column('channel', sa.String(length=8), server_default='wechat',
                                                   nullable=False))
    op.add_column('reminder_deliveries', sa.Column('sms_serial', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_reminder_deliveries_sms_serial'), 'reminder_deliveries', ['sms_serial'], unique=False)
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('audience', JSON, nullable=False),
    sa.Column('ask_reply', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('sms_fallback', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rounds', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC, server_default=NOW, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('last_round_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['created_by_contact_id'], ['contacts.id'],
                            name=op.f('fk_notices_created_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_notices_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index(op.f('ix_notices_meeting_id'), 'notices', ['meeting_id'], unique=False)
    op.create_table('notice_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('read_at', UTC, nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.Column('answered_at', UTC, nullable=True),
    sa.Column('leave_reason', sa.String(length=200), nullable=True),
    sa.Column('leave_state', sa.String(length=16), nullable=True),
    sa.Column('decided_by', sa.String(length=96), nullable=True),
    sa.Column('decided_at', UTC, nullable=True),
    sa.Column('decision_note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_notice_recipients_contact_id_contacts'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_recipients_notice_id_notices'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_recipients')),
    sa.UniqueConstraint('notice_id', 'contact_id', name=op.f('uq_notice_recipients_notice_id_contact_id')),
    sa.UniqueConstraint('token', name=op.f('uq_notice_recipients_token'))
    )
    op.create_index(op.f('ix_notice_recipients_contact_id'), 'notice_recipients', ['contact_id'], unique=False)
    op.create_table('notice_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('reported_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_deliveries_notice_id_notices'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['notice_recipients.id'],
                            name=op.f('fk_notice_deliveries_recipient_id_notice_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_deliveries')),
    sa.UniqueConstraint('recipient_id', 'round', 'channel',
                        name=op.f('uq_notice_deliveries_recipient_id_round_channel'))
    )
    op.create_index(op.f('ix_notice_deliveries_notice_id'), 'notice_deliveries', ['notice_id'], unique=False)
    op.create_index(op.f('ix_notice_deliveries_provider_id'), 'notice_deliveries', ['provider_id'], unique=False)


def downgrade():
    op.drop_table('notice_deliveries')
    op.drop_table('notice_recipients')
    op.drop_table('notices')
    op.drop_index(op.f('ix_reminder_deliveries_sms_serial'), table_name='reminder_deliveries')
    op.drop_column('reminder_deliveries', 'sms_serial')
    op.drop_column('reminder_deliveries', 'channel')
    op.drop_column('meetings', 'sms_fallback')
