"""Discovery inventory and posture tables.

Revision ID: 20261126_1500
Revises: 20261126_1400
Create Date: 2026-11-26 15:00
"""

from __future__ import annotations

from alembic import op

from nexora.core import migrate

revision = "20261126_1500"
down_revision = "20261126_1400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate.create_schema("discovery")


def downgrade() -> None:
    op.execute('DROP SCHEMA "discovery" CASCADE')
