"""The offline door: personal codes, desks and their synced scans.

Revision ID: d0f4b6c8e1a3
Revises: c9e3a5b7d0f2
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'd0f4b6c8e1a3'
down_revision = 'c9e3a5b7d0f2'
branch_labels = None
depends_on = None


def upgrade():
    pass  # reserved: filled by the change that owns this step of the chain


def downgrade():
    pass
