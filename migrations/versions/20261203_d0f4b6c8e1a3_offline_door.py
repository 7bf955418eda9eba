"""The offline door: personal codes, desks and their synced scans.

Desks (staff scanners with a token scoped to one meeting), every scan they sync (unique per desk and
scan id, so a batch sent twice adds nothing), and the revoked generations of personal codes.

Revision ID: d0f4b6c8e1a3
Revises: c9e3a5b7d0f2
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'd0f4b6c8e1a3'
down_revision = 'c9e3a5b7d0f2'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table('desks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('last_seen_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_desks_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_contact_id'], ['contacts.id'],
                            name=op.f('fk_desks_created_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_contact_id'], ['contacts.id'],
                            name=op.f('fk_desks_revoked_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desks')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_desks_token_hash'))
    )
    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desks_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('desk_scans',
    sa.Column('id', BIGINT, nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('scanned_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('device_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=True),
    sa.Column('flag', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_desk_scans_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_desk_scans_desk_id_desks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'],
                            name=op.f('fk_desk_scans_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_desk_scans_contact_id_contacts'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_scans')),
    sa.UniqueConstraint('desk_id', 'scan_id', name=op.f('uq_desk_scans_desk_id_scan_id'))
    )
    with op.batch_alter_table('desk_scans', schema=None) as batch_op:
        batch_op.create_index('ix_desk_scans_meeting_contact', ['meeting_id', 'contact_id'], unique=False)

    op.create_table('code_revocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('revoked_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_code_revocations_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_code_revocations_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_contact_id'], ['contacts.id'],
                            name=op.f('fk_code_revocations_revoked_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_revocations')),
    sa.UniqueConstraint('meeting_id', 'contact_id', 'generation',
                        name=op.f('uq_code_revocations_meeting_id_contact_id_generation'))
    )
    with op.batch_alter_table('code_revocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_revocations_meeting_id'), ['meeting_id'], unique=False)


def downgrade():
    with op.batch_alter_table('code_revocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_revocations_meeting_id'))
    op.drop_table('code_revocations')
    with op.batch_alter_table('desk_scans', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_scans_meeting_contact')
    op.drop_table('desk_scans')
    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desks_meeting_id'))
    op.drop_table('desks')
