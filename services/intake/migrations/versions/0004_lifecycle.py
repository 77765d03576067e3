"""Offer to placement: day-parts instead of days per week, offers, the audit log,
imported waiting lists, confirmations, and what a crisis closure needs.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

WEEK = "ARRAY['mon_am','mon_pm','tue_am','tue_pm','wed_am','wed_pm','thu_am','thu_pm'," \
    "'fri_am','fri_pm']"


def upgrade() -> None:
    op.add_column("requests", sa.Column("day_parts", sa.JSON))
    # v1 asked for whole days: that many full days, from Monday (contracts.schedule.full_days)
    op.execute(
        f"UPDATE requests SET day_parts = (SELECT json_agg(part ORDER BY n) "
        f"FROM unnest({WEEK}) WITH ORDINALITY AS week(part, n) "
        f"WHERE n <= 2 * LEAST(GREATEST(days_per_week, 1), 5))"
    )
    op.alter_column("requests", "day_parts", nullable=False)
    op.drop_column("requests", "days_per_week")
    op.add_column("requests", sa.Column("accepts_partial_fit", sa.Boolean, nullable=False,
                                        server_default=sa.false()))
    op.add_column("requests", sa.Column("share_contact_with_organiser", sa.Boolean,
                                        nullable=False, server_default=sa.false()))
    op.add_column("requests", sa.Column("sibling_request_ids", sa.JSON, nullable=False,
                                        server_default=sa.text("'[]'::json")))
    op.add_column("requests", sa.Column("last_confirmed_at", sa.DateTime(timezone=True)))
    op.add_column("requests", sa.Column("confirmation_asked_at", sa.DateTime(timezone=True)))
    op.create_index("ix_requests_confirmation_asked_at", "requests", ["confirmation_asked_at"])
    op.add_column("requests", sa.Column("needs_loket_for_closure_id", sa.String(64)))
    op.create_index("ix_requests_needs_loket_for_closure_id", "requests",
                    ["needs_loket_for_closure_id"])
    op.add_column("requests", sa.Column("import_id", sa.String(64)))
    # Proposals now live in `offers` (matching still holds them and tells their outcome).
    op.execute("UPDATE requests SET status = 'waiting' WHERE status IN ('submitted', 'proposed')")
    for column in ("match_id", "proposed_location_id", "proposed_place_id"):
        op.drop_column("requests", column)

    op.add_column("locations", sa.Column("closure_id", sa.String(64)))
    op.add_column("locations", sa.Column("closed_from", sa.Date))

    op.create_table(
        "offers",
        sa.Column("match_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        sa.Column("place_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("day_parts", sa.JSON, nullable=False),
        sa.Column("fit", sa.String(16), nullable=False),
        sa.Column("family_answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organiser_answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_reason", sa.String(32)),
        sa.Column("refusal_reason", sa.String(32)),
        sa.Column("keep_waiting_for_higher_choices", sa.Boolean, nullable=False),
        sa.Column("answered_by", sa.String(16)),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("enrolment_id", sa.String(64)),
        sa.Column("ended_on", sa.Date),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("match_id", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("staff_member", sa.String(200)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("import_id", sa.String(64), primary_key=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(200)),
    )


def downgrade() -> None:
    raise NotImplementedError("forward only: restore from a backup to go back")
