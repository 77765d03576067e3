"""Intake's tables: requests (with personal data), known locations, outbox and inbox.

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
        sa.Column("status", sa.String(32), nullable=False, index=True),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("child_first_name", sa.String(100), nullable=False),
        sa.Column("child_last_name", sa.String(100), nullable=False),
        sa.Column("child_birth_date", sa.Date, nullable=False),
        sa.Column("child_national_number", sa.String(11)),
        sa.Column("parent_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("street", sa.String(200)),
        sa.Column("postcode", sa.String(4), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False, index=True),
        sa.Column("neighbourhood_code", sa.String(32)),
        sa.Column("desired_start_date", sa.Date, nullable=False),
        sa.Column("days_per_week", sa.Integer, nullable=False),
        sa.Column("preferred_location_ids", sa.JSON, nullable=False),
        sa.Column("priority", sa.JSON, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces_request_id", sa.String(64)),
        sa.Column("replaced_by_request_id", sa.String(64)),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.Column("match_id", sa.String(64)),
        sa.Column("proposed_location_id", sa.String(64), index=True),
        sa.Column("proposed_place_id", sa.String(64)),
    )
    op.create_table(
        "locations",
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("service_area", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("postcode", sa.String(4), nullable=False),
        sa.Column("subsidy_tier", sa.String(32), nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    for table in ("locations", "requests", "processed_events", "outbox"):
        op.drop_table(table)
