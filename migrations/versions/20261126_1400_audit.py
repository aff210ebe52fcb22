"""Audit log tables.

Revision ID: 20261126_1400
Revises: 20261126_1300
Create Date: 2026-11-26 14:00
"""

from __future__ import annotations

from alembic import op

from nexora.core import migrate

revision = "20261126_1400"
down_revision = "20261126_1300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate.create_schema("audit")


def downgrade() -> None:
    op.execute('DROP SCHEMA "audit" CASCADE')
