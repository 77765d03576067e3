"""A family may ask for any open location within a distance, besides its named choices.

`preferred_location_ids` stays the effective list (what other services know);
`distance_location_ids` says which of it came from the family's `max_distance_km`
(none, for every request before this), so the family's own list is the rest.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.add_column("requests", sa.Column("distance_location_ids", sa.JSON, nullable=False,
                                        server_default=sa.text("'[]'::json")))
    op.add_column("requests", sa.Column("max_distance_km", sa.Float))


def downgrade() -> None:
    op.drop_column("requests", "max_distance_km")
    op.drop_column("requests", "distance_location_ids")
