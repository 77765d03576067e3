"""Reporting's tables: one row per fact, keyed by the fact's natural id.

Nothing here is personal: pseudonymous ids, municipality codes and dates. No
counters are stored; figures are counted from these rows at read time, so a
redelivered event cannot double them and replaying the log rebuilds them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ReportingTable(SQLModel, registry=registry()):
    """Reporting's own metadata: every service has a `requests` or `locations`
    table in its own database, and one Python process (the tests) may load several."""


class RequestFact(ReportingTable, table=True):
    """A RequestSubmitted; the family's municipality."""

    __tablename__ = "requests"

    request_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    urgency: str = Field(max_length=16)
    replaces_request_id: str | None = Field(default=None, max_length=64)
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))


class WithdrawalFact(ReportingTable, table=True):
    """A RequestWithdrawn; a request is withdrawn at most once."""

    __tablename__ = "withdrawals"

    request_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    withdrawn_at: datetime = Field(sa_type=DateTime(timezone=True))


class ProposalFact(ReportingTable, table=True):
    """A MatchProposed; counted at the location's municipality."""

    __tablename__ = "proposals"

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    place_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64)
    service_area: str = Field(max_length=64)
    location_municipality_nis: str = Field(max_length=5, index=True)
    request_municipality_nis: str = Field(max_length=5)
    urgency: str = Field(max_length=16)
    proposed_at: datetime = Field(sa_type=DateTime(timezone=True))


class FreePlaceFact(ReportingTable, table=True):
    """A PlaceFreed (as validated by capacity); the location's municipality."""

    __tablename__ = "free_places"

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    available_from: date
    freed_at: datetime = Field(sa_type=DateTime(timezone=True))


class LocationFact(ReportingTable, table=True):
    """A LocationRegistered."""

    __tablename__ = "locations"

    location_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    capacity: int
    subsidy_tier: str = Field(max_length=32)
    registered_at: datetime = Field(sa_type=DateTime(timezone=True))


class ClosureFact(ReportingTable, table=True):
    """A CrisisClosure; the location's free places stop counting as open."""

    __tablename__ = "closures"

    closure_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    service_area: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    effective_from: date
    announced_at: datetime = Field(sa_type=DateTime(timezone=True))
