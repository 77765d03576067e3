"""Capacity's tables: locations, free places, offers, enrolments and closures.

No personal data: offers and enrolments are pseudonymous (ids and day-parts), and
the organiser's e-mail is a business address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Column, DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


def day_parts_column() -> Any:
    return Field(sa_column=Column(ARRAY(String(6)), nullable=False))


class CapacityTable(SQLModel, registry=registry()):
    """Capacity's own metadata: table names are per database, and one Python
    process (the tests) may load several services' tables."""


class LocationRecord(CapacityTable, table=True):
    __tablename__ = "locations"

    location_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    municipality_nis: str = Field(max_length=5)
    postcode: str = Field(max_length=4)
    capacity: int
    licensed_places: int
    subsidy_tier: str = Field(max_length=32)
    min_age_months: int
    max_age_months: int
    organiser_email: str | None = Field(default=None, max_length=254)
    organiser_id: str | None = Field(default=None, max_length=64, index=True)
    closed: bool = False
    registered_at: datetime = Field(sa_type=DateTime(timezone=True))


class FreePlaceRecord(CapacityTable, table=True):
    __tablename__ = "free_places"
    # Counting a location's open places is on every offer's path.
    __table_args__ = (Index("ix_free_places_location_status", "location_id", "status"),)

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(foreign_key="locations.location_id", max_length=64)
    available_from: date
    day_parts: list[str] = day_parts_column()
    min_age_months: int
    max_age_months: int
    status: str = Field(max_length=16)  # open, filled, withdrawn, cancelled
    source: str = Field(max_length=16)  # api, organiser
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))


class OfferRecord(CapacityTable, table=True):
    __tablename__ = "offers"

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64)
    place_id: str = Field(max_length=64)
    location_id: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16)
    start_date: date | None = None
    day_parts: list[str] = day_parts_column()
    requested_day_parts: list[str] = day_parts_column()
    priority_group: bool = False
    family_answer_due: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    organiser_answer_due: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True))
    keep_waiting_for_higher_choices: bool = False
    ended_reason: str | None = Field(default=None, max_length=32)


class EnrolmentRecord(CapacityTable, table=True):
    __tablename__ = "enrolments"

    enrolment_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(foreign_key="locations.location_id", max_length=64, index=True)
    request_id: str | None = Field(default=None, max_length=64, index=True)
    match_id: str | None = Field(default=None, max_length=64)
    day_parts: list[str] = day_parts_column()
    start_date: date
    ends_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=32)
    priority_group: bool = False
    source: str = Field(max_length=16)  # loket, declared


class ClosureRecord(CapacityTable, table=True):
    __tablename__ = "closures"

    closure_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(foreign_key="locations.location_id", max_length=64, index=True)
    service_area: str = Field(max_length=64, index=True)
    reason: str = Field(max_length=32)
    effective_from: date
    expected_end: date | None = None
    status: str = Field(max_length=16)  # registered, released
    registered_at: datetime = Field(sa_type=DateTime(timezone=True))
    released_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Once released: the affected enrolments and offers, and the cancelled places.
    affected: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
