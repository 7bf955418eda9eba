"""Seat plans per session and seat assignments.

Revision ID: a3c7e9f1b4d6
Revises: f2b6d8e0a3c5
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'a3c7e9f1b4d6'
down_revision = 'f2b6d8e0a3c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seat_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('seats_per_row', sa.Integer(), nullable=False),
    sa.Column('aisles', models.base.JSONType, nullable=False),
    sa.Column('numbering', sa.String(length=12), nullable=False),
    sa.Column('rostrum_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rostrum_seats', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rostrum_people', models.base.JSONType, nullable=False),
    sa.Column('sections', models.base.JSONType, nullable=False),
    sa.Column('blocked', models.base.JSONType, nullable=False),
    sa.Column('on_card', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_seat_plans_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['meeting_sessions.id'],
                            name=op.f('fk_seat_plans_session_id_meeting_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_plans')),
    sa.UniqueConstraint('meeting_id', 'name', name=op.f('uq_seat_plans_meeting_id_name'))
    )
    with op.batch_alter_table('seat_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_plans_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_plans_session_id'), ['session_id'], unique=False)

    op.create_table('seat_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['seat_plans.id'], name=op.f('fk_seat_assignments_plan_id_seat_plans'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_seat_assignments_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_assignments')),
    # The two guards: one person per seat, one seat per person, in a plan.
    sa.UniqueConstraint('plan_id', 'row', 'seat', name=op.f('uq_seat_assignments_plan_id_row_seat')),
    sa.UniqueConstraint('plan_id', 'contact_id', name=op.f('uq_seat_assignments_plan_id_contact_id'))
    )
    with op.batch_alter_table('seat_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_assignments_contact_id'), ['contact_id'], unique=False)


def downgrade():
    op.drop_table('seat_assignments')
    op.drop_table('seat_plans')
