"""Offer to placement: licences, day-parts, offers, enrolments, confidential closures.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"

FULL_WEEK = "{mon_am,mon_pm,tue_am,tue_pm,wed_am,wed_pm,thu_am,thu_pm,fri_am,fri_pm}"


def day_parts(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, postgresql.ARRAY(sa.String(6)), nullable=False)


def upgrade() -> None:
    # Locations: the licence in force (the registered capacity until one is declared),
    # and the organiser's business address for notices.
    op.add_column("locations", sa.Column("licensed_places", sa.Integer, nullable=True))
    op.execute("UPDATE locations SET licensed_places = capacity")
    op.alter_column("locations", "licensed_places", nullable=False)
    op.add_column("locations", sa.Column("organiser_email", sa.String(254), nullable=True))

    # Free places cover day-parts; those announced before covered the full week.
    op.add_column("free_places", sa.Column("day_parts", postgresql.ARRAY(sa.String(6)),
                                           nullable=True))
    op.execute(f"UPDATE free_places SET day_parts = '{FULL_WEEK}'")
    op.alter_column("free_places", "day_parts", nullable=False)

    op.create_table(
        "offers",
        sa.Column("match_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("place_id", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        day_parts("day_parts"),
        day_parts("requested_day_parts"),
        sa.Column("priority_group", sa.Boolean, nullable=False),
        sa.Column("family_answer_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organiser_answer_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("keep_waiting_for_higher_choices", sa.Boolean, nullable=False),
        sa.Column("ended_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "enrolments",
        sa.Column("enrolment_id", sa.String(64), primary_key=True),
        sa.Column("location_id", sa.String(64), sa.ForeignKey("locations.location_id"),
                  nullable=False, index=True),
        sa.Column("request_id", sa.String(64), nullable=True, index=True),
        sa.Column("match_id", sa.String(64), nullable=True),
        day_parts("day_parts"),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("priority_group", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )

    # Closures are registered first (confidential) and released later. Earlier ones
    # were published at once: released when they were announced.
    op.add_column("closures", sa.Column("service_area", sa.String(64), nullable=True))
    op.execute(
        "UPDATE closures SET service_area = locations.service_area FROM locations "
        "WHERE locations.location_id = closures.location_id"
    )
    op.alter_column("closures", "service_area", nullable=False)
    op.create_index("ix_closures_service_area", "closures", ["service_area"])
    op.add_column("closures", sa.Column("expected_end", sa.Date, nullable=True))
    op.add_column("closures", sa.Column("status", sa.String(16), nullable=False,
                                        server_default="released"))
    op.alter_column("closures", "status", server_default=None)
    op.add_column("closures", sa.Column("registered_at", sa.DateTime(timezone=True),
                                        nullable=True))
    op.execute("UPDATE closures SET registered_at = announced_at")
    op.alter_column("closures", "registered_at", nullable=False)
    op.alter_column("closures", "announced_at", new_column_name="released_at", nullable=True)
    op.add_column("closures", sa.Column("affected", postgresql.JSONB, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("forward only: restore from a backup to go back")
