"""Confidentiality reminders (保密提醒) and each person's confirmation.

Revision ID: c9e3a5b7d0f2
Revises: b8d2f4a6c9e1
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'c9e3a5b7d0f2'
down_revision = 'b8d2f4a6c9e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('confidentiality_terms',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_contact_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                            name=op.f('fk_confidentiality_terms_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_contact_id'], ['contacts.id'],
                            name=op.f('fk_confidentiality_terms_updated_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_confidentiality_terms'))
    )
    op.create_table('confidentiality_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('confirmed_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                            name=op.f('fk_confidentiality_confirmations_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                            name=op.f('fk_confidentiality_confirmations_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidentiality_confirmations')),
    sa.UniqueConstraint('meeting_id', 'contact_id', 'version',
                        name=op.f('uq_confidentiality_confirmations_meeting_id_contact_id_version'))
    )
    with op.batch_alter_table('confidentiality_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidentiality_confirmations_contact_id'), ['contact_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('confidentiality_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidentiality_confirmations_contact_id'))
    op.drop_table('confidentiality_confirmations')
    op.drop_table('confidentiality_terms')
