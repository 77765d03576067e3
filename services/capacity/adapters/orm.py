"""Capacity's tables: locations, their free places and closures. No personal data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, Index
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


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
    subsidy_tier: str = Field(max_length=32)
    min_age_months: int
    max_age_months: int
    closed: bool = False
    registered_at: datetime = Field(sa_type=DateTime(timezone=True))


class FreePlaceRecord(CapacityTable, table=True):
    __tablename__ = "free_places"
    # Counting a location's open places is on every offer's path.
    __table_args__ = (Index("ix_free_places_location_status", "location_id", "status"),)

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(foreign_key="locations.location_id", max_length=64)
    available_from: date
    min_age_months: int
    max_age_months: int
    status: str = Field(max_length=16)  # open, cancelled
    source: str = Field(max_length=16)  # api, organiser
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))


class ClosureRecord(CapacityTable, table=True):
    __tablename__ = "closures"

    closure_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(foreign_key="locations.location_id", max_length=64, index=True)
    reason: str = Field(max_length=32)
    effective_from: date
    announced_at: datetime = Field(sa_type=DateTime(timezone=True))
