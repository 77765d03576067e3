"""Matching's tables: its own view of waiting requests and open places, and the matches.

`request_locations` is the candidate index: one row per (request, chosen
location), so a freed place looks only at the requests that chose its location.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, DateTime, Index, String, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.matching.domain.model import PlaceStatus, RequestStatus


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
    preferred_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sibling_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    priority_facts: int
    urgency: str = Field(max_length=16)
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Stored as text, not a PostgreSQL enum type: a new status needs no type migration.
    status: RequestStatus = Field(sa_type=String(16))


class RequestLocationRecord(MatchingTable, table=True):
    __tablename__ = "request_locations"
    __table_args__ = (
        Index("ix_request_locations_candidates", "location_id", "birth_month",
              postgresql_where=text("waiting")),
    )

    request_id: str = Field(primary_key=True, max_length=64, foreign_key="requests.request_id")
    location_id: str = Field(primary_key=True, max_length=64)
    birth_month: date
    waiting: bool = True


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
    status: PlaceStatus = Field(sa_type=String(16))


class MatchRecord(MatchingTable, table=True):
    __tablename__ = "matches"
    # The database itself refuses two live proposals of one place.
    __table_args__ = (
        Index("uq_matches_live_place", "place_id", unique=True, postgresql_where=text("active")),
    )

    match_id: str = Field(primary_key=True, max_length=64)
    place_id: str = Field(max_length=64)
    request_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64, index=True)
    proposed_at: datetime = Field(sa_type=DateTime(timezone=True))
    active: bool = True


class ClosedLocationRecord(MatchingTable, table=True):
    __tablename__ = "closed_locations"

    location_id: str = Field(primary_key=True, max_length=64)
    closed_at: datetime = Field(sa_type=DateTime(timezone=True))
