"""What the routes ask capacity to do: one frozen dataclass per command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.events import DeclaredEnrolment
from contracts.schedule import FULL_WEEK, DayPart
from services.capacity.domain.model import (
    ClosureReason,
    EnrolmentEndReason,
    RefusalReason,
    SubsidyTier,
)


@dataclass(frozen=True)
class RegisterLocation:
    """A location of an organiser; it keeps the organiser's own id when one is given.
    `capacity` is its initial licence."""

    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    subsidy_tier: SubsidyTier
    min_age_months: int = 0
    max_age_months: int = 36
    location_id: str | None = None
    organiser_email: str | None = None
    organiser_id: str | None = None


@dataclass(frozen=True)
class DeclareCapacity:
    location_id: str
    licensed_places: int


@dataclass(frozen=True)
class OfferFreePlaces:
    """`count` identical free places; absent age bounds are the location's own."""

    location_id: str
    available_from: date
    count: int = 1
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    min_age_months: int | None = None
    max_age_months: int | None = None


@dataclass(frozen=True)
class WithdrawPlace:
    location_id: str
    place_id: str


@dataclass(frozen=True)
class ConfirmPlacement:
    """The organiser admits the child: absent fields are the offer's own."""

    match_id: str
    start_date: date | None = None
    day_parts: tuple[DayPart, ...] | None = None


@dataclass(frozen=True)
class RefuseMatch:
    match_id: str
    reason: RefusalReason


@dataclass(frozen=True)
class DeclareEnrolments:
    location_id: str
    enrolments: tuple[DeclaredEnrolment, ...]


@dataclass(frozen=True)
class EndEnrolment:
    enrolment_id: str
    ended_on: date
    reason: EnrolmentEndReason


@dataclass(frozen=True)
class RegisterClosure:
    location_id: str
    reason: ClosureReason
    effective_from: date
    expected_end: date | None = None


@dataclass(frozen=True)
class ReleaseClosure:
    closure_id: str
