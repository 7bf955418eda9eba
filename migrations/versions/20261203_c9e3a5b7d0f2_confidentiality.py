"""Confidentiality reminders (保密提醒) and each person's confirmation.

Revision ID: c9e3a5b7d0f2
Revises: b8d2f4a6c9e1
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'c9e3a5b7d0f2'
down_revision = 'b8d2f4a6c9e1'
branch_labels = None
depends_on = None


def upgrade():
    pass  # reserved: filled by the change that owns this step of the chain


def downgrade():
    pass
