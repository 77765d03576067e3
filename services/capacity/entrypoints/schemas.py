"""HTTP request and response bodies (Create/Public naming).

Request bodies derive from `CleanInput` (no control characters) and bound every
string and list; the limits mirror the event contracts, so anything accepted here
can be published.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import DeclaredEnrolment
from contracts.events.capacity import (
    ClosureReason,
    EnrolmentEndReason,
    RefusalReason,
    SubsidyTier,
)
from contracts.schedule import FULL_WEEK, DayPart, DayParts
from contracts.text import CleanInput
from contracts.topics import ORGANISER_ID_PATTERN

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class LocationCreate(CleanInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    location_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=ID_PATTERN,
        description="The organiser's own id; generated when absent.",
    )
    name: str = Field(min_length=1, max_length=200)
    municipality_nis: str = Field(max_length=5, pattern=r"^\d{5}$",
                                  description="NIS code of the municipality")
    postcode: str = Field(max_length=4, pattern=r"^\d{4}$")
    capacity: int = Field(ge=1, le=500, description="Licensed places (the initial licence)")
    subsidy_tier: SubsidyTier
    min_age_months: int = Field(default=0, ge=0, le=48, description="Youngest age accepted")
    max_age_months: int = Field(default=36, ge=0, le=48, description="Oldest age accepted")
    organiser_email: str | None = Field(
        default=None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="The organiser's business address for notices; never published.",
    )
    organiser_id: str | None = Field(
        default=None, max_length=64, pattern=ORGANISER_ID_PATTERN,
        description="The organiser running the location (its Kafka principal): only its "
        "own inbound topic may announce for the location.",
    )


class LocationPublic(BaseModel):
    location_id: str
    service_area: str
    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    licensed_places: int
    subsidy_tier: str
    min_age_months: int
    max_age_months: int
    organiser_email: str | None
    organiser_id: str | None = None
    closed: bool
    open_free_places: int


class CapacityUpdate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    licensed_places: int = Field(ge=1, le=500, description="Children present at the same time")


class FreePlacesCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    available_from: date
    day_parts: DayParts = Field(default_factory=lambda: list(FULL_WEEK))
    min_age_months: int | None = Field(default=None, ge=0, le=48,
                                       description="Defaults to the location's minimum")
    max_age_months: int | None = Field(default=None, ge=0, le=48,
                                       description="Defaults to the location's maximum")
    count: int = Field(default=1, ge=1, le=50, description="Identical places to announce")


class FreePlacesPublic(BaseModel):
    location_id: str
    place_ids: list[str]


class FreePlacePublic(BaseModel):
    place_id: str
    location_id: str
    available_from: date
    day_parts: list[DayPart]
    status: str


class DayPartPublic(BaseModel):
    day_part: DayPart
    licensed: int
    enrolled: int
    free: int
    available: int


class OccupancyPublic(BaseModel):
    location_id: str
    on: date
    day_parts: list[DayPartPublic]


class OfferPublic(BaseModel):
    """Pseudonymous: ids, day-parts, status and deadlines; no child data."""

    match_id: str
    request_id: str
    place_id: str
    location_id: str
    status: str
    start_date: date | None
    day_parts: list[DayPart]
    requested_day_parts: list[DayPart]
    priority_group: bool
    family_answer_due: datetime | None
    organiser_answer_due: datetime | None
    keep_waiting_for_higher_choices: bool
    ended_reason: str | None


class ConfirmCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    start_date: date | None = Field(default=None, description="Defaults to the offer's")
    day_parts: DayParts | None = Field(
        default=None,
        description="Defaults to the day-parts the family asked for that the place covers",
    )


class RefuseCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    reason: RefusalReason


class EnrolmentsUpdate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    enrolments: list[DeclaredEnrolment] = Field(max_length=500)


class EnrolmentEnd(CleanInput):
    model_config = ConfigDict(extra="forbid")
    ended_on: date = Field(description="From this day the enrolment no longer counts")
    reason: EnrolmentEndReason


class EnrolmentPublic(BaseModel):
    enrolment_id: str
    location_id: str
    request_id: str | None
    match_id: str | None
    day_parts: list[DayPart]
    start_date: date
    ends_on: date | None
    end_reason: str | None
    priority_group: bool
    source: str


class ClosureCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    reason: ClosureReason
    effective_from: date
    expected_end: date | None = Field(default=None, description="For a suspension")


class AffectedEnrolmentPublic(BaseModel):
    enrolment_id: str
    request_id: str | None
    day_parts: list[DayPart]


class AffectedOfferPublic(BaseModel):
    match_id: str
    request_id: str
    place_id: str
    status: str


class ClosurePublic(BaseModel):
    closure_id: str
    location_id: str
    service_area: str
    reason: str
    effective_from: date
    expected_end: date | None
    status: str
    registered_at: datetime
    released_at: datetime | None
    affected_enrolments: list[AffectedEnrolmentPublic]
    open_offers: list[AffectedOfferPublic]
    cancelled_place_ids: list[str]
