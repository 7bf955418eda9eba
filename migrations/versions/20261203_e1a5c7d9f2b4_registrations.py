"""Registration: forms per meeting and role, registrations, the meeting's "报名人员" unit.

Revision ID: e1a5c7d9f2b4
Revises: d0f4b6c8e1a3
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'e1a5c7d9f2b4'
down_revision = 'd0f4b6c8e1a3'
branch_labels = None
depends_on = None

NOW = sa.text('(CURRENT_TIMESTAMP)')


def upgrade():
    op.create_table('registration_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('access', sa.String(length=8), nullable=False),
    sa.Column('invite_code', sa.String(length=16), nullable=True),
    sa.Column('needs_approval', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('fields', models.base.JSONType, nullable=False),
    sa.Column('deadline', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cap', sa.Integer(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_registration_forms_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_forms')),
    sa.UniqueConstraint('meeting_id', 'title', name=op.f('uq_registration_forms_meeting_id_title'))
    )
    with op.batch_alter_table('registration_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_forms_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.String(length=16), nullable=False),
    sa.Column('submitted_by', sa.String(length=96), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('unit_name', sa.String(length=128), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('ethnicity', sa.String(length=16), nullable=True),
    sa.Column('id_cipher', sa.Text(), nullable=True),
    sa.Column('id_masked', sa.String(length=24), nullable=True),
    sa.Column('id_digest', sa.String(length=64), nullable=True),
    sa.Column('arrival', sa.Date(), nullable=True),
    sa.Column('departure', sa.Date(), nullable=True),
    sa.Column('diet', models.base.JSONType, nullable=False),
    sa.Column('needs_room', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('accessible', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('rank', sa.Integer(), server_default='100', nullable=False),
    sa.Column('group_name', sa.String(length=64), nullable=True),
    sa.Column('answers', models.base.JSONType, nullable=False),
    sa.Column('photo', sa.String(length=128), nullable=True),
    sa.Column('tags', models.base.JSONType, nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=96), nullable=True),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=200), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_registrations_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['form_id'], ['registration_forms.id'],
                            name=op.f('fk_registrations_form_id_registration_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_registrations_unit_id_units'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_registrations_contact_id_contacts'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations')),
    sa.UniqueConstraint('meeting_id', 'phone', name=op.f('uq_registrations_meeting_id_phone'))
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_form_id'), ['form_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_batch'), ['batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_registrations_meeting_id_status', ['meeting_id', 'status'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_meeting_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_units_registration_meeting_id'), ['registration_meeting_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_units_registration_meeting_id_meetings'), 'meetings',
                                    ['registration_meeting_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_units_registration_meeting_id_meetings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_units_registration_meeting_id'))
        batch_op.drop_column('registration_meeting_id')
    op.drop_table('registrations')
    op.drop_table('registration_forms')
