"""The facts reporting keeps: of each event it counts, the fields the figures need.

One fact per event, keyed by the event's natural id (the primary key, one or more
fields), so a repeat of the same fact under a new event id changes nothing. `FACTS`
is the one table that says which event becomes which fact; a fact is copied from
its event by pydantic (`model_validate(event, from_attributes=True)`), never field
by field. The one event that holds a list, EnrolmentsDeclared, also becomes one
fact per declared enrolment (`facts_of`). Nothing here is personal: pseudonymous
ids, municipality codes, day-parts and dates.

The models carry their column details (lengths, indexes, time zones) because
`adapters.orm` makes its tables from them: one definition per fact.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from contracts import EventData
from contracts.events import (
    CapacityDeclared,
    CrisisClosure,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    PlaceFreed,
    PlacementConfirmed,
    PlaceWithdrawn,
    RequestExpired,
    RequestSubmitted,
    RequestWithdrawn,
)


def moment() -> DateTime:
    return DateTime(timezone=True)


def day_parts() -> ARRAY[str]:
    """A schedule as a PostgreSQL array of day-part names (mon_am ... fri_pm)."""
    return ARRAY(String(6))


class Fact(SQLModel):
    """What reporting keeps of one event (SQLModel reads attributes: from_attributes)."""

    service_area: str = Field(max_length=64)

    @classmethod
    def natural_key(cls) -> tuple[str, ...]:
        """The fields that identify the fact (its primary key), in declaration order."""
        return tuple(name for name, info in cls.model_fields.items()
                     if getattr(info, "primary_key", False) is True)

    @property
    def natural_id(self) -> tuple[str, ...]:
        return tuple(str(getattr(self, name)) for name in self.natural_key())


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


class RequestExpiryFact(Fact):
    """A RequestExpired: the family did not confirm in time (family's municipality)."""

    request_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    confirmation_asked_at: datetime = Field(sa_type=moment())
    expired_at: datetime = Field(sa_type=moment())


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


class OfferEndFact(Fact):
    """What every answer to an offer, and every other end of one, is about."""

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    place_id: str = Field(max_length=64)
    location_id: str = Field(max_length=64)


class AcceptanceFact(OfferEndFact):
    """A MatchAccepted: the family takes the offer (the organiser still decides)."""

    municipality_nis: str = Field(max_length=5, index=True)
    keep_waiting_for_higher_choices: bool
    answered_by: str = Field(max_length=16)
    accepted_at: datetime = Field(sa_type=moment())


class DeclineFact(OfferEndFact):
    """A MatchDeclined: the family declines the offer."""

    municipality_nis: str = Field(max_length=5, index=True)
    answered_by: str = Field(max_length=16)
    declined_at: datetime = Field(sa_type=moment())


class RefusalFact(OfferEndFact):
    """A MatchRefused: the organiser refuses the offer, with its reason."""

    municipality_nis: str = Field(max_length=5, index=True)
    reason: str = Field(max_length=32)
    refused_at: datetime = Field(sa_type=moment())


class OfferExpiryFact(OfferEndFact):
    """A MatchExpired: the family did not answer by its deadline."""

    location_municipality_nis: str = Field(max_length=5, index=True)
    request_municipality_nis: str = Field(max_length=5)
    family_answer_due: datetime = Field(sa_type=moment())
    expired_at: datetime = Field(sa_type=moment())


class CancellationFact(OfferEndFact):
    """A MatchCancelled: the offer ended without an answer deciding it."""

    location_municipality_nis: str = Field(max_length=5, index=True)
    request_municipality_nis: str = Field(max_length=5)
    reason: str = Field(max_length=32)
    cancelled_at: datetime = Field(sa_type=moment())


class PlacementFact(Fact):
    """A PlacementConfirmed: an enrolment through the loket (location's municipality)."""

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    place_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64, index=True)
    municipality_nis: str = Field(max_length=5, index=True)
    enrolment_id: str = Field(max_length=64)
    start_date: date
    day_parts: list[str] = Field(sa_type=day_parts())
    priority_group: bool
    confirmed_at: datetime = Field(sa_type=moment())


class EnrolmentEndFact(Fact):
    """An EnrolmentEnded: the child's day-parts are free again from `ended_on`.
    Enrolment ids are the organiser's own, so they are unique per location only."""

    location_id: str = Field(primary_key=True, max_length=64)
    enrolment_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    ended_on: date
    reason: str = Field(max_length=32)
    recorded_at: datetime = Field(sa_type=moment())


class DeclarationFact(Fact):
    """An EnrolmentsDeclared: the latest one per location replaces the earlier ones
    (an empty declaration too), so each is kept with its time."""

    location_id: str = Field(primary_key=True, max_length=64)
    declared_at: datetime = Field(primary_key=True, sa_type=moment())
    municipality_nis: str = Field(max_length=5, index=True)


class DeclaredEnrolmentFact(Fact):
    """One enrolment of an EnrolmentsDeclared (admitted outside the loket)."""

    location_id: str = Field(primary_key=True, max_length=64)
    declared_at: datetime = Field(primary_key=True, sa_type=moment())
    enrolment_id: str = Field(primary_key=True, max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    start_date: date
    end_date: date | None = None
    day_parts: list[str] = Field(sa_type=day_parts())
    priority_group: bool


class CapacityFact(Fact):
    """A CapacityDeclared: the latest per location is its licence."""

    location_id: str = Field(primary_key=True, max_length=64)
    declared_at: datetime = Field(primary_key=True, sa_type=moment())
    municipality_nis: str = Field(max_length=5, index=True)
    licensed_places: int


class FreePlaceFact(Fact):
    """A PlaceFreed (as validated by capacity); the location's municipality."""

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64, index=True)
    municipality_nis: str = Field(max_length=5, index=True)
    available_from: date
    freed_at: datetime = Field(sa_type=moment())


class PlaceWithdrawalFact(Fact):
    """A PlaceWithdrawn: the organiser took back a free place it announced."""

    place_id: str = Field(primary_key=True, max_length=64)
    location_id: str = Field(max_length=64)
    municipality_nis: str = Field(max_length=5, index=True)
    withdrawn_at: datetime = Field(sa_type=moment())


class LocationFact(Fact):
    """A LocationRegistered; `capacity` is the licence until a CapacityDeclared."""

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


# Every event reporting counts, and the fact it keeps of it. Not counted: RequestUpdated
# (no figure needs it) and MatchReminderDue (a reminder is no outcome).
FACTS: dict[type[EventData], type[Fact]] = {
    RequestSubmitted: RequestFact,
    RequestWithdrawn: WithdrawalFact,
    RequestExpired: RequestExpiryFact,
    MatchProposed: ProposalFact,
    MatchAccepted: AcceptanceFact,
    MatchDeclined: DeclineFact,
    MatchRefused: RefusalFact,
    MatchExpired: OfferExpiryFact,
    MatchCancelled: CancellationFact,
    PlacementConfirmed: PlacementFact,
    EnrolmentEnded: EnrolmentEndFact,
    EnrolmentsDeclared: DeclarationFact,
    CapacityDeclared: CapacityFact,
    PlaceFreed: FreePlaceFact,
    PlaceWithdrawn: PlaceWithdrawalFact,
    LocationRegistered: LocationFact,
    CrisisClosure: ClosureFact,
}


def fact_of(data: EventData) -> Fact:
    return FACTS[type(data)].model_validate(data, from_attributes=True)


def facts_of(data: EventData) -> list[Fact]:
    """The event's fact, and for a declaration one fact per declared enrolment."""
    facts = [fact_of(data)]
    if isinstance(data, EnrolmentsDeclared):
        where = data.model_dump(include={"service_area", "location_id", "declared_at",
                                         "municipality_nis"})
        facts += [DeclaredEnrolmentFact.model_validate({**where, **enrolment.model_dump()})
                  for enrolment in data.enrolments]
    return facts
