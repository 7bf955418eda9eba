"""The personal service card's fields, per meeting, group or person.

Revision ID: b8d2f4a6c9e1
Revises: a7c1e3f5b8d0
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'b8d2f4a6c9e1'
down_revision = 'a7c1e3f5b8d0'
branch_labels = None
depends_on = None


def upgrade():
    pass  # reserved: filled by the change that owns this step of the chain


def downgrade():
    pass
