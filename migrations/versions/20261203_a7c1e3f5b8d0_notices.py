"""Notices (会议通知) with 回执 and 请假, and per-channel deliveries.

Revision ID: a7c1e3f5b8d0
Revises: 9b4e1d7c2f60
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'a7c1e3f5b8d0'
down_revision = '9b4e1d7c2f60'
branch_labels = None
depends_on = None


def upgrade():
    pass  # reserved: filled by the change that owns this step of the chain


def downgrade():
    pass
