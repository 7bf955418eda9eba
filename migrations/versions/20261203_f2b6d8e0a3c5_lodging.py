"""Hotels, room types, rooms and their allocation.

Revision ID: f2b6d8e0a3c5
Revises: e1a5c7d9f2b4
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'f2b6d8e0a3c5'
down_revision = 'e1a5c7d9f2b4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
