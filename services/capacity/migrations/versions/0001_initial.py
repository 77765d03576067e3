"""Capacity's tables: locations, free places, closures, outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from loketkit.migrations import create_delivery_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_delivery_tables()
    op.create_table(
        "locations",
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("service_area", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("postcode", sa.String(4), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("subsidy_tier", sa.String(32), nullable=False),
        sa.Column("min_age_months", sa.Integer, nullable=False),
        sa.Column("max_age_months", sa.Integer, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "free_places",
        sa.Column("place_id", sa.String(64), primary_key=True),
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id"),
                  nullable=False),
        sa.Column("available_from", sa.Date, nullable=False),
        sa.Column("min_age_months", sa.Integer, nullable=False),
        sa.Column("max_age_months", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_free_places_location_status", "free_places", ["location_id", "status"])
    op.create_table(
        "closures",
        sa.Column("closure_id", sa.String(64), primary_key=True),
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id"),
                  nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("closures", "free_places", "locations", "processed_events", "outbox"):
        op.drop_table(table)
