"""Intake's tables. Personal data lives in `requests` and nowhere else."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class IntakeTable(SQLModel, registry=registry()):
    """Intake's own metadata: table names are per database, and one Python
    process (the tests) may load several services' tables."""


class RequestRecord(IntakeTable, table=True):
    __tablename__ = "requests"

    request_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    status: str = Field(max_length=32, index=True)
    urgency: str = Field(max_length=16)
    # Personal data: never copied into events, logs or metrics.
    child_first_name: str = Field(max_length=100)
    child_last_name: str = Field(max_length=100)
    child_birth_date: date
    child_national_number: str | None = Field(default=None, max_length=11)
    parent_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=200)
    postcode: str = Field(max_length=4)
    # Facts that may be published pseudonymously.
    municipality_nis: str = Field(max_length=5, index=True)
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    desired_start_date: date
    days_per_week: int
    preferred_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    priority: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))
    replaces_request_id: str | None = Field(default=None, max_length=64)
    replaced_by_request_id: str | None = Field(default=None, max_length=64)
    erased_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    match_id: str | None = Field(default=None, max_length=64)
    proposed_location_id: str | None = Field(default=None, max_length=64, index=True)
    proposed_place_id: str | None = Field(default=None, max_length=64)


class LocationRecord(IntakeTable, table=True):
    """Locations families can choose, as announced by capacity."""

    __tablename__ = "locations"

    location_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    municipality_nis: str = Field(max_length=5)
    postcode: str = Field(max_length=4)
    subsidy_tier: str = Field(max_length=32)
    closed: bool = False
