"""Priority rules as data: facts instead of a count, the ranked candidate index, the
locations' tiers and children, the rules behind each offer, allocation rounds.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # A count of facts cannot say which facts: earlier requests keep none (their
    # families' facts arrive again with any update or assessment from intake).
    op.add_column("requests", sa.Column("facts", sa.JSON, nullable=False,
                                        server_default=sa.text("'[]'")))
    op.drop_column("requests", "priority_facts")
    op.add_column("request_locations", sa.Column(
        "sort_key", sa.String(512, collation="C"), nullable=False, server_default=""))
    op.add_column("request_locations", sa.Column(
        "priority_group", sa.Boolean, nullable=False, server_default=sa.false()))
    op.drop_index("ix_request_locations_candidates", table_name="request_locations")
    op.create_index("ix_request_locations_ranked", "request_locations",
                    ["location_id", sa.text("priority_group DESC"), "sort_key"],
                    postgresql_where=sa.text("waiting"))
    op.create_index("ix_request_locations_order", "request_locations",
                    ["location_id", "sort_key"], postgresql_where=sa.text("waiting"))
    for column in (sa.Column("rule_set_id", sa.String(64)),
                   sa.Column("priority_class", sa.String(64)),
                   sa.Column("explanation", sa.Text, nullable=False, server_default=""),
                   sa.Column("round_id", sa.String(64))):
        op.add_column("matches", column)
    op.create_table(
        "locations",
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("municipality_nis", sa.String(5), nullable=False),
        sa.Column("subsidy_tier", sa.String(16), nullable=False),
    )
    op.create_table(
        "enrolments",
        sa.Column("enrolment_id", sa.String(64), primary_key=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        sa.Column("priority_group", sa.Boolean, nullable=False),
        sa.Column("declared", sa.Boolean, nullable=False),
    )
    op.create_table(
        "area_rankings",
        sa.Column("service_area", sa.String(64), primary_key=True),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rounds",
        sa.Column("round_id", sa.String(64), primary_key=True),
        sa.Column("service_area", sa.String(64), nullable=False, index=True),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date, nullable=False),
        sa.Column("lottery_seed", sa.BigInteger, nullable=False),
        sa.Column("rule_sets", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("offers_made", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("forward only")
