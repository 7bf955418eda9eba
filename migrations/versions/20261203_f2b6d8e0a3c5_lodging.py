"""Hotels, room types, rooms and their allocation.

Revision ID: f2b6d8e0a3c5
Revises: e1a5c7d9f2b4
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'f2b6d8e0a3c5'
down_revision = 'e1a5c7d9f2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hotels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_hotels_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotels')),
    sa.UniqueConstraint('meeting_id', 'name', name=op.f('uq_hotels_meeting_id_name'))
    )
    op.create_index(op.f('ix_hotels_meeting_id'), 'hotels', ['meeting_id'], unique=False)

    op.create_table('room_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hotel_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('beds', sa.Integer(), nullable=False),
    sa.Column('price', sa.String(length=32), nullable=False),
    sa.Column('roles', models.base.JSONType, nullable=False),
    sa.CheckConstraint('beds BETWEEN 1 AND 8', name=op.f('ck_room_types_beds_range')),
    sa.ForeignKeyConstraint(['hotel_id'], ['hotels.id'], name=op.f('fk_room_types_hotel_id_hotels'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_types')),
    sa.UniqueConstraint('hotel_id', 'name', name=op.f('uq_room_types_hotel_id_name'))
    )
    op.create_index(op.f('ix_room_types_hotel_id'), 'room_types', ['hotel_id'], unique=False)

    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('hotel_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('accessible', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("gender IN ('男', '女')", name=op.f('ck_rooms_gender_value')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_rooms_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hotel_id'], ['hotels.id'], name=op.f('fk_rooms_hotel_id_hotels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['type_id'], ['room_types.id'], name=op.f('fk_rooms_type_id_room_types'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('hotel_id', 'number', name=op.f('uq_rooms_hotel_id_number'))
    )
    op.create_index(op.f('ix_rooms_meeting_id'), 'rooms', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_rooms_hotel_id'), 'rooms', ['hotel_id'], unique=False)
    op.create_index(op.f('ix_rooms_type_id'), 'rooms', ['type_id'], unique=False)

    op.create_table('room_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('night_from', sa.Date(), nullable=True),
    sa.Column('night_to', sa.Date(), nullable=True),
    sa.Column('assigned_by', sa.String(length=96), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_room_assignments_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_assignments_room_id_rooms'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_room_assignments_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_assignments')),
    sa.UniqueConstraint('meeting_id', 'contact_id', name=op.f('uq_room_assignments_meeting_id_contact_id'))
    )
    op.create_index(op.f('ix_room_assignments_room_id'), 'room_assignments', ['room_id'], unique=False)
    op.create_index(op.f('ix_room_assignments_contact_id'), 'room_assignments', ['contact_id'], unique=False)

    op.create_table('lodging_states',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('published_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=96), nullable=True),
    sa.Column('allocated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_lodging_states_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_lodging_states'))
    )


def downgrade():
    op.drop_table('lodging_states')
    op.drop_index(op.f('ix_room_assignments_contact_id'), table_name='room_assignments')
    op.drop_index(op.f('ix_room_assignments_room_id'), table_name='room_assignments')
    op.drop_table('room_assignments')
    op.drop_index(op.f('ix_rooms_type_id'), table_name='rooms')
    op.drop_index(op.f('ix_rooms_hotel_id'), table_name='rooms')
    op.drop_index(op.f('ix_rooms_meeting_id'), table_name='rooms')
    op.drop_table('rooms')
    op.drop_index(op.f('ix_room_types_hotel_id'), table_name='room_types')
    op.drop_table('room_types')
    op.drop_index(op.f('ix_hotels_meeting_id'), table_name='hotels')
    op.drop_table('hotels')
