"""Offer lifecycle: day-parts and fits, ranked choices, offers with statuses and deadlines.

Existing rows keep their meaning: requests and places covered the full week, a live
match is a proposed offer (a week for the family, two for the organiser, as the v1
upgrade of MatchProposed says), an ended one was cancelled.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

FULL_WEEK = ('["mon_am", "mon_pm", "tue_am", "tue_pm", "wed_am", "wed_pm", '
             '"thu_am", "thu_pm", "fri_am", "fri_pm"]')
LIVE = "status IN ('proposed', 'accepted')"


def add_filled(table: str, column: sa.Column, fill: str) -> None:  # type: ignore[type-arg]
    """Adds a NOT NULL column, filling existing rows with the SQL expression `fill`."""
    column.nullable = True
    op.add_column(table, column)
    op.execute(f"UPDATE {table} SET {column.name} = {fill}")
    op.alter_column(table, column.name, nullable=False)


def upgrade() -> None:
    # Requests: day-parts, partial fits, sibling links, closed and held choices.
    add_filled("requests", sa.Column("day_parts", sa.JSON), f"'{FULL_WEEK}'::json")
    add_filled("requests", sa.Column("accepts_partial_fit", sa.Boolean), "false")
    add_filled("requests", sa.Column("sibling_request_ids", sa.JSON), "'[]'::json")
    add_filled("requests", sa.Column("closed_location_ids", sa.JSON), "'[]'::json")
    add_filled("requests", sa.Column("holding_location_ids", sa.JSON),
               "(SELECT coalesce(json_agg(m.location_id), '[]'::json) FROM matches m "
               "WHERE m.request_id = requests.request_id AND m.active)")

    # The candidate index knows each choice's rank.
    add_filled("request_locations", sa.Column("rank", sa.Integer),
               "(SELECT c.n - 1 FROM requests r, json_array_elements_text("
               "r.preferred_location_ids) WITH ORDINALITY AS c(location_id, n) "
               "WHERE r.request_id = request_locations.request_id "
               "AND c.location_id = request_locations.location_id LIMIT 1)")

    add_filled("places", sa.Column("day_parts", sa.JSON), f"'{FULL_WEEK}'::json")

    # Matches become offers with a status and deadlines.
    add_filled("matches", sa.Column("service_area", sa.String(64)),
               "coalesce((SELECT p.service_area FROM places p "
               "WHERE p.place_id = matches.place_id), '')")
    add_filled("matches", sa.Column("location_municipality_nis", sa.String(5)),
               "coalesce((SELECT p.municipality_nis FROM places p "
               "WHERE p.place_id = matches.place_id), '')")
    add_filled("matches", sa.Column("request_municipality_nis", sa.String(5)),
               "coalesce((SELECT r.municipality_nis FROM requests r "
               "WHERE r.request_id = matches.request_id), '')")
    add_filled("matches", sa.Column("status", sa.String(16)),
               "CASE WHEN active THEN 'proposed' ELSE 'cancelled' END")
    add_filled("matches", sa.Column("fit", sa.String(16)), "'full'")
    add_filled("matches", sa.Column("day_parts", sa.JSON), f"'{FULL_WEEK}'::json")
    add_filled("matches", sa.Column("family_answer_due", sa.DateTime(timezone=True)),
               "proposed_at + interval '7 days'")
    add_filled("matches", sa.Column("family_reminder_due", sa.DateTime(timezone=True)),
               "proposed_at + interval '6 days'")
    add_filled("matches", sa.Column("organiser_answer_due", sa.DateTime(timezone=True)),
               "proposed_at + interval '14 days'")
    op.add_column("matches", sa.Column("family_reminded_at", sa.DateTime(timezone=True),
                                       nullable=True))
    op.add_column("matches", sa.Column("organiser_reminded_at", sa.DateTime(timezone=True),
                                       nullable=True))
    add_filled("matches", sa.Column("keep_waiting", sa.Boolean), "false")

    # A request with an offer now also waits at the choices it ranked above it.
    op.execute(
        "UPDATE request_locations rl SET waiting = (r.status IN ('waiting', 'proposed') "
        "AND NOT EXISTS (SELECT 1 FROM matches m JOIN request_locations h "
        "ON h.request_id = m.request_id AND h.location_id = m.location_id "
        "WHERE m.request_id = rl.request_id AND m.status IN ('proposed', 'accepted') "
        "AND h.rank <= rl.rank)) FROM requests r WHERE r.request_id = rl.request_id")

    # One live (proposed or accepted) offer per place; the deadlines job's index.
    op.drop_index("uq_matches_live_place", table_name="matches")
    op.drop_column("matches", "active")
    op.create_index("uq_matches_live_place", "matches", ["place_id"], unique=True,
                    postgresql_where=sa.text(LIVE))
    op.create_index("ix_matches_live_due", "matches", ["family_answer_due"],
                    postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    raise NotImplementedError("forward only: restore from a backup to go back")
