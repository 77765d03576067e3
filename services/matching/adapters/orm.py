"""Matching's tables: its own view of waiting requests and open places, and the matches.

`request_locations` is the candidate index: one row per (request, chosen
location), so a freed place looks only at the requests that chose its location.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, DateTime, Index, String, text
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
    priority_facts: int
    urgency: str = Field(max_length=16)
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Stored as text, not a PostgreSQL enum type: a new status needs no type migration.
    status: RequestStatus = Field(sa_type=String(16))
    closed_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    holding_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))


class RequestLocationRecord(MatchingTable, table=True):
    __tablename__ = "request_locations"
    __table_args__ = (
        Index("ix_request_locations_candidates", "location_id", "birth_month",
              postgresql_where=text("waiting")),
    )

    request_id: str = Field(primary_key=True, max_length=64, foreign_key="requests.request_id")
    location_id: str = Field(primary_key=True, max_length=64)
    rank: int  # 0: the most wanted location
    birth_month: date
    waiting: bool = True  # an open choice ranked above every offer the request holds


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


class ClosedLocationRecord(MatchingTable, table=True):
    __tablename__ = "closed_locations"

    location_id: str = Field(primary_key=True, max_length=64)
    closed_at: datetime = Field(sa_type=DateTime(timezone=True))
