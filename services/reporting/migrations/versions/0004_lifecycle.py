"""The offer-to-placement lifecycle (issue 6): one table per new fact (expired
requests, the family's and the organiser's answers, expired and cancelled offers,
placements, ended and declared enrolments, licences, withdrawn places).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"

NEW_TABLES = (
    "place_withdrawals", "capacity_declarations", "declared_enrolments",
    "enrolment_declarations", "enrolment_ends", "placements", "cancellations",
    "offer_expiries", "refusals", "declines", "acceptances", "request_expiries",
)


def text(name: str, length: int = 64, *, primary_key: bool = False, index: bool = False,
         nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), primary_key=primary_key, index=index,
                     nullable=nullable)


def area() -> sa.Column[str]:
    return text("service_area")


def nis(name: str = "municipality_nis", *, index: bool = True) -> sa.Column[str]:
    return text(name, 5, index=index)


def moment(name: str, *, primary_key: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), primary_key=primary_key, nullable=False)


def day_parts() -> sa.Column[object]:
    return sa.Column("day_parts", postgresql.ARRAY(sa.String(6)), nullable=False)


def offer(*, request_index: bool = True) -> list[sa.Column[str]]:
    """match_id (the key), request_id, place_id, location_id."""
    return [text("match_id", primary_key=True), text("request_id", index=request_index),
            text("place_id"), text("location_id")]


def upgrade() -> None:
    op.create_table(
        "request_expiries",
        area(), text("request_id", primary_key=True), nis(), text("reason", 32),
        moment("confirmation_asked_at"), moment("expired_at"),
    )
    op.create_table(
        "acceptances",
        area(), *offer(), nis(),
        sa.Column("keep_waiting_for_higher_choices", sa.Boolean, nullable=False),
        text("answered_by", 16), moment("accepted_at"),
    )
    op.create_table(
        "declines",
        area(), *offer(), nis(), text("answered_by", 16), moment("declined_at"),
    )
    op.create_table(
        "refusals",
        area(), *offer(), nis(), text("reason", 32), moment("refused_at"),
    )
    op.create_table(
        "offer_expiries",
        area(), *offer(), nis("location_municipality_nis"),
        nis("request_municipality_nis", index=False),
        moment("family_answer_due"), moment("expired_at"),
    )
    op.create_table(
        "cancellations",
        area(), *offer(), nis("location_municipality_nis"),
        nis("request_municipality_nis", index=False),
        text("reason", 32), moment("cancelled_at"),
    )
    op.create_table(
        "placements",
        area(), text("match_id", primary_key=True), text("request_id", index=True),
        text("place_id", index=True), text("location_id", index=True), nis(),
        text("enrolment_id"), sa.Column("start_date", sa.Date, nullable=False), day_parts(),
        sa.Column("priority_group", sa.Boolean, nullable=False), moment("confirmed_at"),
    )
    op.create_table(
        "enrolment_ends",
        area(), text("location_id", primary_key=True), text("enrolment_id", primary_key=True),
        nis(), text("request_id", nullable=True), sa.Column("ended_on", sa.Date, nullable=False),
        text("reason", 32), moment("recorded_at"),
    )
    op.create_table(
        "enrolment_declarations",
        area(), text("location_id", primary_key=True), moment("declared_at", primary_key=True),
        nis(),
    )
    op.create_table(
        "declared_enrolments",
        area(), text("location_id", primary_key=True), moment("declared_at", primary_key=True),
        text("enrolment_id", primary_key=True), nis(),
        sa.Column("start_date", sa.Date, nullable=False), sa.Column("end_date", sa.Date),
        day_parts(), sa.Column("priority_group", sa.Boolean, nullable=False),
    )
    op.create_table(
        "capacity_declarations",
        area(), text("location_id", primary_key=True), moment("declared_at", primary_key=True),
        nis(), sa.Column("licensed_places", sa.Integer, nullable=False),
    )
    op.create_table(
        "place_withdrawals",
        area(), text("place_id", primary_key=True), text("location_id"), nis(),
        moment("withdrawn_at"),
    )


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
