"""Meal sittings, tables, bus routes, cars and assignments.

Revision ID: b4d8f0a2c5e7
Revises: a3c7e9f1b4d6
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'b4d8f0a2c5e7'
down_revision = 'a3c7e9f1b4d6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
