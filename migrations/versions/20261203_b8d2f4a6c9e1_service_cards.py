"""The personal service card's fields, per meeting, group or person.

Revision ID: b8d2f4a6c9e1
Revises: a7c1e3f5b8d0
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import models.base

# revision identifiers, used by Alembic.
revision = 'b8d2f4a6c9e1'
down_revision = 'a7c1e3f5b8d0'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('service_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('scope_key', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('fields', JSON, nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
              nullable=False),
    sa.Column('updated_by', sa.String(length=96), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_service_cards_contact_id_contacts'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_service_cards_meeting_id_meetings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_cards')),
    sa.UniqueConstraint('meeting_id', 'scope', 'scope_key',
                        name=op.f('uq_service_cards_meeting_id_scope_scope_key'))
    )
    with op.batch_alter_table('service_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_cards_contact_id'), ['contact_id'], unique=False)


def downgrade():
    with op.batch_alter_table('service_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_cards_contact_id'))
    op.drop_table('service_cards')
