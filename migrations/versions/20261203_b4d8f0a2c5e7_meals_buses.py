"""Meal sittings, tables, bus routes, cars and assignments.

Revision ID: b4d8f0a2c5e7
Revises: a3c7e9f1b4d6
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

# revision identifiers, used by Alembic.
revision = 'b4d8f0a2c5e7'
down_revision = 'a3c7e9f1b4d6'
branch_labels = None
depends_on = None


def _assignments(table: str, parent: str, parent_table: str, slot: str, slot_table: str) -> None:
    """meal_assignments and bus_assignments share their shape: one person per parent, in one slot."""
    op.create_table(table,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column(parent, sa.Integer(), nullable=False),
    sa.Column(slot, sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=96), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint([parent], [f'{parent_table}.id'], name=op.f(f'fk_{table}_{parent}_{parent_table}'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint([slot], [f'{slot_table}.id'], name=op.f(f'fk_{table}_{slot}_{slot_table}'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f(f'fk_{table}_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    sa.UniqueConstraint(parent, 'contact_id', name=op.f(f'uq_{table}_{parent}_contact_id'))
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{table}_{slot}'), [slot], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{table}_contact_id'), ['contact_id'], unique=False)


def upgrade():
    op.create_table('meal_sittings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=16), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('notes', sa.String(length=200), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meal_sittings_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meal_sittings'))
    )
    with op.batch_alter_table('meal_sittings', schema=None) as batch_op:
        batch_op.create_index('ix_meal_sittings_meeting_id_starts_at', ['meeting_id', 'starts_at'], unique=False)

    op.create_table('meal_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('head', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('reserved_group', sa.String(length=64), nullable=True),
    sa.CheckConstraint('seats > 0', name=op.f('ck_meal_tables_seats_positive')),
    sa.ForeignKeyConstraint(['sitting_id'], ['meal_sittings.id'], name=op.f('fk_meal_tables_sitting_id_meal_sittings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meal_tables')),
    sa.UniqueConstraint('sitting_id', 'label', name=op.f('uq_meal_tables_sitting_id_label'))
    )
    _assignments('meal_assignments', 'sitting_id', 'meal_sittings', 'table_id', 'meal_tables')

    op.create_table('bus_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('departs_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('from_place', sa.String(length=100), nullable=False),
    sa.Column('to_place', sa.String(length=100), nullable=False),
    sa.Column('notes', sa.String(length=200), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_bus_routes_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bus_routes'))
    )
    with op.batch_alter_table('bus_routes', schema=None) as batch_op:
        batch_op.create_index('ix_bus_routes_meeting_id_departs_at', ['meeting_id', 'departs_at'], unique=False)

    op.create_table('bus_cars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('driver_name', sa.String(length=32), nullable=False),
    sa.Column('driver_phone', sa.String(length=32), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_bus_cars_seats_positive')),
    sa.ForeignKeyConstraint(['route_id'], ['bus_routes.id'], name=op.f('fk_bus_cars_route_id_bus_routes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bus_cars')),
    sa.UniqueConstraint('route_id', 'label', name=op.f('uq_bus_cars_route_id_label'))
    )
    _assignments('bus_assignments', 'route_id', 'bus_routes', 'car_id', 'bus_cars')


def downgrade():
    op.drop_table('bus_assignments')
    op.drop_table('bus_cars')
    with op.batch_alter_table('bus_routes', schema=None) as batch_op:
        batch_op.drop_index('ix_bus_routes_meeting_id_departs_at')
    op.drop_table('bus_routes')
    op.drop_table('meal_assignments')
    op.drop_table('meal_tables')
    with op.batch_alter_table('meal_sittings', schema=None) as batch_op:
        batch_op.drop_index('ix_meal_sittings_meeting_id_starts_at')
    op.drop_table('meal_sittings')
