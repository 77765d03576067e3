"""Events about locations, places, enrolments and closures, published by capacity.

Capacity speaks for organisers. Organisers' own systems may publish the events in
`contracts.events.ORGANISER_INBOUND` to their own inbound topic,
loket.capacity.inbound.v1.<organiser_id>; capacity checks them against the location
(and its organiser) and republishes them here. Enrolments are pseudonymous:
an enrolment id, the request id when the loket placed the child, never a name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.events.base import ID, ID_LENGTH, ID_PATTERN, NIS_CODE, EventData, Id
from contracts.schedule import FULL_WEEK, DayParts
from contracts.text import CleanInput
from contracts.topics import CAPACITY, ORGANISER_ID_PATTERN, TopicSpec

SubsidyTier = Literal["basic", "income_related", "plus", "free_price"]
ClosureReason = Literal["licence_suspended", "licence_revoked", "bankruptcy", "force_majeure"]
RefusalReason = Literal["age_group_full", "day_parts_not_available", "care_need_not_met", "other"]
EnrolmentEndReason = Literal["left", "moved_to_other_choice", "location_closed", "other"]
AGE_MONTHS = Field(ge=0, le=48)
PLACE_ID = Field(
    min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN,
    description="Unique per free place; announcing the same place_id again changes nothing.",
)
LICENSED_PLACES = Field(ge=1, le=500, description="Children present at the same time.")


class LocationRegistered(EventData):
    NAME: ClassVar[str] = "LocationRegistered"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "location_id"

    location_id: str = ID
    name: str = Field(min_length=1, max_length=200)
    municipality_nis: str = NIS_CODE
    postcode: str = Field(max_length=4, pattern=r"^\d{4}$")
    capacity: int = Field(ge=1, le=500)
    subsidy_tier: SubsidyTier
    registered_at: datetime
    # Added compatibly: the organiser (its Kafka principal) that runs the location, whose
    # inbound topic alone may announce for it. None for a location without one.
    organiser_id: str | None = Field(
        default=None, max_length=64, pattern=ORGANISER_ID_PATTERN)


class CapacityDeclared(EventData):
    """The licensed capacity of a location: the children it may have present at once,
    in every day-part."""

    NAME: ClassVar[str] = "CapacityDeclared"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "location_id"

    location_id: str = ID
    municipality_nis: str = NIS_CODE
    licensed_places: int = LICENSED_PLACES
    declared_at: datetime


class _AgeRange(EventData):
    min_age_months: int = AGE_MONTHS
    max_age_months: int = AGE_MONTHS

    @model_validator(mode="after")
    def _age_range(self) -> _AgeRange:
        if self.min_age_months > self.max_age_months:
            raise ValueError("min_age_months must not exceed max_age_months")
        return self


class PlaceFreed(_AgeRange):
    """A free place at a location, for the day-parts it covers."""

    NAME: ClassVar[str] = "PlaceFreed"
    VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "place_id"

    place_id: str = PLACE_ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    available_from: date
    day_parts: DayParts
    freed_at: datetime


class PlaceFreedV1(_AgeRange):
    """A free place as first published: no day-parts, so a full-time place."""

    NAME: ClassVar[str] = "PlaceFreed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "place_id"

    place_id: str = PLACE_ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    available_from: date
    freed_at: datetime

    def upgraded(self) -> EventData:
        return PlaceFreed(**self.model_dump(), day_parts=list(FULL_WEEK))


class PlaceWithdrawn(EventData):
    """The organiser takes back a free place it announced (not one that is offered)."""

    NAME: ClassVar[str] = "PlaceWithdrawn"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "place_id"

    place_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    withdrawn_at: datetime


class PlacementConfirmed(EventData):
    """The organiser admits the child the family accepted an offer for: an enrolment."""

    NAME: ClassVar[str] = "PlacementConfirmed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "match_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    enrolment_id: str = ID
    start_date: date
    day_parts: DayParts
    priority_group: bool = Field(
        default=False, description="The child counts towards the location's priority quota."
    )
    confirmed_at: datetime


class MatchRefused(EventData):
    """The organiser refuses an offer at its location, with a reason from a short list."""

    NAME: ClassVar[str] = "MatchRefused"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "match_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: RefusalReason
    refused_at: datetime


class DeclaredEnrolment(CleanInput):
    """One child at the location, pseudonymous: the organiser's own enrolment id."""

    enrolment_id: str = ID
    start_date: date
    end_date: date | None = None
    day_parts: DayParts
    priority_group: bool = False


class EnrolmentsDeclared(EventData):
    """The organiser's current enrolments admitted outside the loket (at go-live, and
    whenever they change): the declared list replaces the previous one."""

    NAME: ClassVar[str] = "EnrolmentsDeclared"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "location_id"

    location_id: str = ID
    municipality_nis: str = NIS_CODE
    enrolments: list[DeclaredEnrolment] = Field(max_length=500)
    declared_at: datetime


class EnrolmentEnded(EventData):
    """A child leaves a location: its day-parts count as free again from `ended_on`."""

    NAME: ClassVar[str] = "EnrolmentEnded"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "enrolment_id"

    enrolment_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    request_id: Id | None = Field(default=None, description="Set when the loket placed the child.")
    ended_on: date
    reason: EnrolmentEndReason
    recorded_at: datetime


class CrisisClosure(EventData):
    """A closure the area's coordinator released after the parents were told: every child
    enrolled there from `effective_from`, or holding an open offer there, is re-placed."""

    NAME: ClassVar[str] = "CrisisClosure"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "location_id"

    closure_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: ClosureReason
    effective_from: date
    expected_end: date | None = Field(
        default=None, description="For a suspension: when the licence is expected back."
    )
    announced_at: datetime = Field(description="When the closure was released.")
