"""The organizer console: organizing units and who organizes for them, system administrators,
leave (请假), the presence policy and late threshold, walk-in decisions and invitee notes.

Revision ID: 4c691660b842
Revises: b7c41e2d9a15
Create Date: 2026-12-02 21:18:15.905112

"""
from alembic import op
import sqlalchemy as sa

import models.base


# revision identifiers, used by Alembic.
revision = '4c691660b842'
down_revision = 'b7c41e2d9a15'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('approver', sa.String(length=64), nullable=False),
    sa.Column('recorded_by', sa.String(length=96), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_leaves_contact_id_contacts'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_leaves_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaves')),
    sa.UniqueConstraint('meeting_id', 'contact_id', name=op.f('uq_leaves_meeting_id_contact_id'))
    )
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaves_contact_id'), ['contact_id'], unique=False)

    op.create_table('system_admins',
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_system_admins_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_system_admins'))
    )
    op.create_table('unit_organizers',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_unit_organizers_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_organizers_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'contact_id', name=op.f('pk_unit_organizers'))
    )
    with op.batch_alter_table('unit_organizers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_organizers_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('invitees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=True))

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('presence', sa.String(length=16), server_default='scan_or_link', nullable=False))
        batch_op.add_column(sa.Column('late_after_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_meetings_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_meetings_unit_id_units'), 'units', ['unit_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meetings_unit_id_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_meetings_unit_id'))
        batch_op.drop_column('late_after_minutes')
        batch_op.drop_column('presence')
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('invitees', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('decision_note')
        batch_op.drop_column('decided_by')

    with op.batch_alter_table('unit_organizers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_organizers_contact_id'))

    op.drop_table('unit_organizers')
    op.drop_table('system_admins')
    with op.batch_alter_table('leaves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaves_contact_id'))

    op.drop_table('leaves')
