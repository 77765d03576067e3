"""The facts reporting keeps: of each event it counts, the fields the figures need.

One fact per event, keyed by the event's natural id (the primary key), so a
repeat of the same fact under a new event id changes nothing. `FACTS` is the one
table that says which event becomes which fact; a fact is copied from its event
by pydantic (`model_validate(event, from_attributes=True)`), never field by field.
Nothing here is personal: pseudonymous ids, municipality codes and dates.

The models carry their column details (lengths, indexes, time zones) because
`adapters.orm` makes its tables from them: one definition per fact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from contracts import EventData
from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)


def moment() -> DateTime:
    return DateTime(timezone=True)


class Fact(SQLModel):
    """What reporting keeps of one event (SQLModel reads attributes: from_attributes)."""

    service_area: str = Field(max_length=64)

    @classmethod
    def natural_key(cls) -> str:
        """The field that identifies the fact (its primary key)."""
        return next(name for name, info in cls.model_fields.items()
                    if getattr(info, "primary_key", False) is True)

    @property
    def natural_id(self) -> str:
        return str(getattr(self, self.natural_key()))


class RequestFact(Fact):
    """A RequestSubmitted; the family's municipality."""

    request_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    urgency: str = Field(max_length=16)
    replaces_request_id: str | None = Field(default=None, max_length=64)
    submitted_at: datetime = Field(sa_type=moment())


class WithdrawalFact(Fact):
    """A RequestWithdrawn; a request is withdrawn at most once."""

    request_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    withdrawn_at: datetime = Field(sa_type=moment())


class ProposalFact(Fact):
    """A MatchProposed; counted at the location's municipality."""

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    place_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64)
    location_municipality_nis: str = Field(max_length=5, index=True)
    request_municipality_nis: str = Field(max_length=5)
    urgency: str = Field(max_length=16)
    proposed_at: datetime = Field(sa_type=moment())


class FreePlaceFact(Fact):
    """A PlaceFreed (as validated by capacity); the location's municipality."""

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    municipality_nis: str = Field(max_length=5, index=True)
    available_from: date
    freed_at: datetime = Field(sa_type=moment())


class LocationFact(Fact):
    """A LocationRegistered."""

    location_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    capacity: int
    subsidy_tier: str = Field(max_length=32)
    registered_at: datetime = Field(sa_type=moment())


class ClosureFact(Fact):
    """A CrisisClosure; the location's free places stop counting as open."""

    closure_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    effective_from: date
    announced_at: datetime = Field(sa_type=moment())


# Every event reporting counts, and the fact it keeps of it: all of the catalogue so far.
FACTS: dict[type[EventData], type[Fact]] = {
    RequestSubmitted: RequestFact,
    RequestWithdrawn: WithdrawalFact,
    MatchProposed: ProposalFact,
    PlaceFreed: FreePlaceFact,
    LocationRegistered: LocationFact,
    CrisisClosure: ClosureFact,
}


def fact_of(data: EventData) -> Fact:
    return FACTS[type(data)].model_validate(data, from_attributes=True)
