"""Locations know their organiser (its Kafka principal), so that only the organiser's
own inbound topic may announce for them. Nullable: locations registered before have
none until an operator sets it, and no organiser system may announce for them.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("locations", sa.Column("organiser_id", sa.String(64), nullable=True))
    op.create_index("ix_locations_organiser_id", "locations", ["organiser_id"])


def downgrade() -> None:
    op.drop_index("ix_locations_organiser_id", table_name="locations")
    op.drop_column("locations", "organiser_id")
