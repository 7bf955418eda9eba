"""Seat plans per session and seat assignments.

Revision ID: a3c7e9f1b4d6
Revises: f2b6d8e0a3c5
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'a3c7e9f1b4d6'
down_revision = 'f2b6d8e0a3c5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
