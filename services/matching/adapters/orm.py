"""Matching's tables: its own view of waiting requests and open places, and the matches.

`request_locations` is the candidate index: one row per (request, chosen
location) with the request's standing there under the priority rules as a text key
that sorts byte-wise (collation "C"), so a freed place reads its best candidates
first from a B-tree in logarithmic time, whatever the length of the waiting list.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, String, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.matching.domain.model import MatchStatus, PlaceStatus, RequestStatus


class MatchingTable(SQLModel, registry=registry()):
    """Matching's own metadata: table names are per database, and one Python
    process (the tests) may load several services' tables."""


class WaitingRequestRecord(MatchingTable, table=True):
    __tablename__ = "requests"

    request_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5)
    birth_month: date
    desired_start_date: date
    day_parts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    accepts_partial_fit: bool = False
    preferred_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sibling_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sibling_request_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    facts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    urgency: str = Field(max_length=16)
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Stored as text, not a PostgreSQL enum type: a new status needs no type migration.
    status: RequestStatus = Field(sa_type=String(16))
    closed_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    holding_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))


class RequestLocationRecord(MatchingTable, table=True):
    __tablename__ = "request_locations"
    __table_args__ = (
        # Reserved seats read priority-group children first: both orders come from it.
        Index("ix_request_locations_ranked", "location_id", text("priority_group DESC"),
              "sort_key", postgresql_where=text("waiting")),
        Index("ix_request_locations_order", "location_id", "sort_key",
              postgresql_where=text("waiting")),
    )

    request_id: str = Field(primary_key=True, max_length=64, foreign_key="requests.request_id")
    location_id: str = Field(primary_key=True, max_length=64)
    rank: int  # 0: the most wanted location
    birth_month: date
    waiting: bool = True  # an open choice ranked above every offer the request holds
    sort_key: str = Field(sa_type=String(512, collation="C"))
    priority_group: bool = False


class PlaceRecord(MatchingTable, table=True):
    __tablename__ = "places"
    __table_args__ = (Index("ix_places_open", "location_id", "status"),)

    place_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    location_id: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5)
    available_from: date
    min_age_months: int
    max_age_months: int
    day_parts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: PlaceStatus = Field(sa_type=String(16))


class MatchRecord(MatchingTable, table=True):
    __tablename__ = "matches"
    __table_args__ = (
        # The database itself refuses two live offers of one place.
        Index("uq_matches_live_place", "place_id", unique=True,
              postgresql_where=text("status IN ('proposed', 'accepted')")),
        # The deadlines job and the worklist look at live offers only.
        Index("ix_matches_live_due", "family_answer_due",
              postgresql_where=text("status IN ('proposed', 'accepted')")),
    )

    match_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    place_id: str = Field(max_length=64)
    request_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64, index=True)
    location_municipality_nis: str = Field(max_length=5)
    request_municipality_nis: str = Field(max_length=5)
    proposed_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: MatchStatus = Field(sa_type=String(16))
    fit: str = Field(max_length=16)
    day_parts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    family_answer_due: datetime = Field(sa_type=DateTime(timezone=True))
    family_reminder_due: datetime = Field(sa_type=DateTime(timezone=True))
    organiser_answer_due: datetime = Field(sa_type=DateTime(timezone=True))
    family_reminded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    organiser_reminded_at: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True))
    keep_waiting: bool = False
    rule_set_id: str | None = Field(default=None, max_length=64)
    priority_class: str | None = Field(default=None, max_length=64)
    explanation: str = Field(default="", sa_type=Text)
    round_id: str | None = Field(default=None, max_length=64)


class LocationRecord(MatchingTable, table=True):
    """What capacity announced of a location: which rules bind it."""

    __tablename__ = "locations"

    location_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5)
    subsidy_tier: str = Field(max_length=16)


class EnrolmentRecord(MatchingTable, table=True):
    """A child at a location (declared by its organiser or placed by the loket), with
    whether it counts towards the location's required share."""

    __tablename__ = "enrolments"

    enrolment_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    priority_group: bool = False
    declared: bool = False  # from the organiser's declared list (replaced as a whole)


class AreaRankingRecord(MatchingTable, table=True):
    """The rules the area's candidate keys were computed with (see Ranking.basis)."""

    __tablename__ = "area_rankings"

    service_area: str = Field(primary_key=True, max_length=64)
    basis: str = Field(sa_type=Text)
    computed_at: datetime = Field(sa_type=DateTime(timezone=True))


class RoundRecord(MatchingTable, table=True):
    __tablename__ = "rounds"

    round_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64, index=True)
    decision_date: date
    period_from: date
    period_to: date
    lottery_seed: int = Field(sa_type=BigInteger)
    rule_sets: list[str] = Field(sa_column=Column(JSON, nullable=False))
    report: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    run_at: datetime = Field(sa_type=DateTime(timezone=True))
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    offers_made: int = 0


class ClosedLocationRecord(MatchingTable, table=True):
    __tablename__ = "closed_locations"

    location_id: str = Field(primary_key=True, max_length=64)
    closed_at: datetime = Field(sa_type=DateTime(timezone=True))
