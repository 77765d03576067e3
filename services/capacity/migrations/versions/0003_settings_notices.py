"""Shared tables: versioned per-area settings and the notices (mail) outbox.

Revision ID: 0003
"""

from loketkit.migrations import create_settings_and_notices_0003

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_settings_and_notices_0003()


def downgrade() -> None:
    raise NotImplementedError("forward only: restore from a backup to go back")
