"""Delivery tables: inbox keyed on source and id, parked outbox rows, idempotency keys.

Revision ID: 0002
"""

from loketkit.migrations import upgrade_delivery_tables_0002

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    upgrade_delivery_tables_0002()


def downgrade() -> None:
    raise NotImplementedError("forward only: restore from a backup to go back")
