"""Reporting's tables: one row per fact (requests, withdrawals, proposals, free
places, locations, closures), plus outbox and inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from loketkit.migrations import create_delivery_tables

revision = "0001"
down_revision = None

FACT_TABLES = ("closures", "locations", "free_places", "proposals", "withdrawals", "requests")


def id_column(name: str, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), primary_key=primary_key, nullable=False)


def nis_column(name: str = "municipality_nis") -> sa.Column[str]:
    return sa.Column(name, sa.String(5), nullable=False, index=True)


def moment(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    create_delivery_tables()
    op.create_table(
        "requests",
        id_column("request_id", primary_key=True),
        id_column("service_area"),
        nis_column(),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("replaces_request_id", sa.String(64)),
        moment("submitted_at"),
    )
    op.create_table(
        "withdrawals",
        id_column("request_id", primary_key=True),
        id_column("service_area"),
        nis_column(),
        sa.Column("reason", sa.String(32), nullable=False),
        moment("withdrawn_at"),
    )
    op.create_table(
        "proposals",
        id_column("match_id", primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("place_id", sa.String(64), nullable=False, index=True),
        id_column("location_id"),
        id_column("service_area"),
        nis_column("location_municipality_nis"),
        sa.Column("request_municipality_nis", sa.String(5), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        moment("proposed_at"),
    )
    op.create_table(
        "free_places",
        id_column("place_id", primary_key=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        id_column("service_area"),
        nis_column(),
        sa.Column("available_from", sa.Date, nullable=False),
        moment("freed_at"),
    )
    op.create_table(
        "locations",
        id_column("location_id", primary_key=True),
        id_column("service_area"),
        nis_column(),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("subsidy_tier", sa.String(32), nullable=False),
        moment("registered_at"),
    )
    op.create_table(
        "closures",
        id_column("closure_id", primary_key=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        id_column("service_area"),
        nis_column(),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        moment("announced_at"),
    )


def downgrade() -> None:
    for table in (*FACT_TABLES, "processed_events", "outbox"):
        op.drop_table(table)
