"""HTTP bodies: `*Create` is what a caller sends, `*Public` what intake answers.

Request bodies derive from `CleanInput` (no control characters) and bound every
string and list, so nothing a caller sends can outgrow a column or an event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from contracts.events.base import Id
from contracts.schedule import DayParts
from contracts.text import CleanInput
from services.intake.domain.model import (
    ChoiceState,
    OfferStatus,
    Status,
    UrgencyDecision,
    UrgencyStatus,
)

DAY_PARTS = Field(description="Day-parts per week the child needs care (mon_am ... fri_pm).")
STAFF_MEMBER = Field(default=None, min_length=1, max_length=200,
                     description="Loket staff answering for a family without e-mail.")

NIS = Field(max_length=5, pattern=r"^\d{5}$", description="NIS code of the family's municipality")
# A reason in words: for the loket's eyes only, never published.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
CHOICES = ("The family's own ranked choices, most wanted first. May be empty when "
           "max_distance_km is given (at least one of the two is required).")
MAX_DISTANCE_KM = ("Also any open location of the area within this distance (km, straight "
                   "line from the parent's postcode), nearest first after the family's own "
                   "choices, at most 10 locations in all. Null: only the named choices. "
                   "Stays in intake.")
# A distance in km, 0.5 to 50 (a finite number).
DistanceKm = Annotated[float, Field(ge=0.5, le=50, allow_inf_nan=False)]
URGENCY_BY_STAFF = ("urgency is granted by loket staff, not set at registration: ask for it "
                    "with urgency_reason (why the family needs care urgently)")


class ChildCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date = Field(description="Birth date, or expected birth date")
    national_number: str | None = Field(default=None, pattern=r"^\d{11}$")


class ParentCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ./-]{6,20}$")
    street: str | None = Field(default=None, max_length=200)
    postcode: str = Field(pattern=r"^\d{4}$")


class PriorityCreate(CleanInput):
    """The family's facts for the priority rules: declaring any needs `sworn_statement`."""

    model_config = ConfigDict(extra="forbid")
    parents_working_or_training: bool = Field(
        default=False, description="The parents need care for work, job search, training "
        "or integration (inburgering).")
    works_at_least_four_fifths: bool = Field(
        default=False, description="The parents work or train at least 4/5 on average.")
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: list[Id] = Field(default_factory=list, max_length=10)


class RequestCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    child: ChildCreate
    parent: ParentCreate
    municipality_nis: str = NIS
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    desired_start_date: date
    day_parts: DayParts = DAY_PARTS
    accepts_partial_fit: bool = Field(
        default=False, description="Also take a place covering part of these day-parts.")
    share_contact_with_organiser: bool = Field(
        default=False, description="Consent: once the family accepts an offer, that "
        "location's organiser may see the parent's name, e-mail and phone and the child's "
        "first name and birth date.")
    preferred_location_ids: list[Id] = Field(
        default_factory=list, max_length=10, description=CHOICES)
    max_distance_km: DistanceKm | None = Field(default=None, description=MAX_DISTANCE_KM)
    priority: PriorityCreate = Field(default_factory=PriorityCreate)
    sworn_statement: bool = Field(
        default=False, description="The family declares on its honour that its priority "
        "facts are true (sworn statement). Required when it declares any.")
    urgency_reason: Reason | None = Field(
        default=None, description="The family asks for urgency and says why. Loket staff "
        "decide; until they grant it the request is normal. Seen by the family and the "
        "loket only.")
    # Gone from the API: a clear 422 for callers that still send it (hidden from OpenAPI).
    urgency: SkipJsonSchema[Any] = Field(default=None, exclude=True)

    @field_validator("urgency")
    @classmethod
    def _urgency_is_granted_by_staff(cls, value: Any) -> Any:
        raise ValueError(URGENCY_BY_STAFF)


class RequestChange(CleanInput):
    """What a family may change while it waits; fields left out stay as they are
    (`max_distance_km: null` stops adding locations by distance). The distance is
    applied again at every change, to the locations open then."""

    model_config = ConfigDict(extra="forbid")
    desired_start_date: date | None = None
    day_parts: DayParts | None = None
    accepts_partial_fit: bool | None = None
    preferred_location_ids: list[Id] | None = Field(
        default=None, max_length=10, description=CHOICES + " Those of `choices` with "
        "`by_distance: false`; intake adds the others.")
    max_distance_km: DistanceKm | None = Field(default=None, description=MAX_DISTANCE_KM)


class VulnerabilityAssessment(CleanInput):
    """The five characteristics of a vulnerable family, as loket staff judge them. The
    family is vulnerable when it meets at least 2, at least one of the first three."""

    model_config = ConfigDict(extra="forbid")
    low_income: bool = Field(description="1. a low family income")
    low_parental_education: bool = Field(description="2. the parents' low education")
    parents_without_work: bool = Field(description="3. parents without work")
    poor_housing: bool = Field(description="4. poor housing")
    health_problems: bool = Field(description="5. health problems in the family")


class UrgencyAssessment(CleanInput):
    model_config = ConfigDict(extra="forbid")
    decision: UrgencyDecision = Field(
        description="granted: the request is urgent; refused: it is normal. A crisis "
        "request stays a crisis request.")
    reason: Reason = Field(description="Why: for the family and the loket, never published.")


class Assessment(CleanInput):
    """Loket staff's assessment: replaces the vulnerability characteristics; decides
    urgency when given (null leaves urgency as it is)."""

    model_config = ConfigDict(extra="forbid")
    vulnerability: VulnerabilityAssessment
    urgency: UrgencyAssessment | None = None


class SiblingLink(CleanInput):
    model_config = ConfigDict(extra="forbid")
    request_id: Id


class _Answer(CleanInput):
    model_config = ConfigDict(extra="forbid")
    answered_by: Literal["family", "loket_staff"] = "family"
    staff_member: str | None = STAFF_MEMBER


class Acceptance(_Answer):
    keep_waiting_for_higher_choices: bool = Field(
        default=False, description="Take this place but keep waiting for the locations "
        "ranked higher; only lower-ranked choices close once placed.")


class Refusal(_Answer):
    pass


class OfferPublic(BaseModel):
    match_id: str
    location_id: str
    place_id: str
    start_date: date
    day_parts: list[str]
    fit: str
    family_answer_due: datetime
    organiser_answer_due: datetime
    proposed_at: datetime
    status: OfferStatus
    cancel_reason: str | None
    refusal_reason: str | None
    keep_waiting_for_higher_choices: bool
    answered_by: str | None
    answered_at: datetime | None
    rule_set: str | None = Field(description="The priority rule set the offer was decided by.")
    why: str = Field(description="Why this family got the place, in one Dutch sentence "
                     "(rule set, urgency, priority group, registration date).")


class PlacementPublic(BaseModel):
    match_id: str
    location_id: str
    enrolment_id: str | None
    start_date: date
    day_parts: list[str]
    ended_on: date | None


class ChoicePublic(BaseModel):
    location_id: str
    state: ChoiceState
    by_distance: bool = Field(
        description="Not named by the family: an open location within its max_distance_km")


class RequestPublic(BaseModel):
    request_id: str
    status: Status
    urgency: str = Field(description="normal, urgent (granted by loket staff) or crisis")
    urgency_status: UrgencyStatus = Field(
        description="none, asked (by the family), granted or refused (by loket staff)")
    urgency_reason: str | None = Field(description="The family's reason for asking urgency")
    urgency_decision_reason: str | None = Field(
        description="Loket staff's reason for granting or refusing urgency")
    vulnerable: bool = Field(description="Assessed by loket staff as a vulnerable family")
    assessed_at: datetime | None
    sworn_statement_at: datetime | None = Field(
        description="When the family swore to its priority facts")
    municipality_nis: str
    desired_start_date: date
    day_parts: list[str]
    accepts_partial_fit: bool
    share_contact_with_organiser: bool
    preferred_location_ids: list[str] = Field(
        description="The effective list, as other services know it: the family's own "
        "choices, then those within max_distance_km (see `choices[].by_distance`)")
    max_distance_km: float | None = Field(
        description="The family also asked for any open location within this distance")
    sibling_request_ids: list[str]
    submitted_at: datetime
    last_confirmed_at: datetime | None
    confirmation_asked_at: datetime | None
    replaces_request_id: str | None
    replaced_by_request_id: str | None
    needs_loket_for_closure_id: str | None
    import_id: str | None
    erased_at: datetime | None
    has_email: bool
    choices: list[ChoicePublic]
    offers: list[OfferPublic]
    placement: PlacementPublic | None


class AuditPublic(BaseModel):
    audit_id: str
    request_id: str
    match_id: str | None
    action: str
    actor: str
    staff_member: str | None
    at: datetime


class ContactPublic(BaseModel):
    """What the organiser of an accepted offer may know, as the family consented."""

    parent_name: str
    email: str | None
    phone: str | None
    child_first_name: str
    child_birth_date: date


class ImportCreate(CleanInput):
    """A waiting list as CSV text (see `entrypoints/imports.py` for the columns)."""

    model_config = ConfigDict(extra="forbid")
    csv: str = Field(min_length=1, max_length=5_000_000)
    imported_by: str | None = Field(default=None, min_length=1, max_length=200)


class ImportPublic(BaseModel):
    import_id: str
    rows: int
    imported_at: datetime
    imported_by: str | None


class LocationPublic(BaseModel):
    location_id: str
    name: str
    municipality_nis: str
    postcode: str
    subsidy_tier: str
    closed: bool


class RegisteredPublic(RequestPublic):
    personal_link: str = Field(description=(
        "The family's personal link (X-Personal-Link): shown once, also mailed to the "
        "family. It opens this request only."))


class PersonalLinkPublic(BaseModel):
    request_id: str
    personal_link: str


class RevokedPublic(BaseModel):
    request_id: str
    revoked: int
