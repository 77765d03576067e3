"""Matching's tables: waiting requests and their candidate index, places, matches, closures.

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
        "requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("service_area", sa.String(64), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("birth_month", sa.Date, nullable=False),
        sa.Column("desired_start_date", sa.Date, nullable=False),
        sa.Column("preferred_location_ids", sa.JSON, nullable=False),
        sa.Column("sibling_location_ids", sa.JSON, nullable=False),
        sa.Column("priority_facts", sa.Integer, nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "request_locations",
        sa.Column("request_id", sa.String(64), sa.ForeignKey("requests.request_id"),
                  primary_key=True),
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("birth_month", sa.Date, nullable=False),
        sa.Column("waiting", sa.Boolean, nullable=False),
    )
    op.create_index("ix_request_locations_candidates", "request_locations",
                    ["location_id", "birth_month"], postgresql_where=sa.text("waiting"))
    op.create_table(
        "places",
        sa.Column("place_id", sa.String(64), primary_key=True),
        sa.Column("service_area", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("available_from", sa.Date, nullable=False),
        sa.Column("min_age_months", sa.Integer, nullable=False),
        sa.Column("max_age_months", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_places_open", "places", ["location_id", "status"])
    op.create_table(
        "matches",
        sa.Column("match_id", sa.String(64), primary_key=True),
        sa.Column("place_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("uq_matches_live_place", "matches", ["place_id"], unique=True,
                    postgresql_where=sa.text("active"))
    op.create_table(
        "closed_locations",
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("closed_locations", "matches", "places", "request_locations", "requests",
                  "processed_events", "outbox"):
        op.drop_table(table)
