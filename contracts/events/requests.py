"""Events about childcare requests and the family's answers, published by intake.

Intake speaks for families. Pseudonymous by design: no names, national numbers,
addresses or contact details. `child_ref` is a keyed HMAC whose key never
enters Kafka.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from contracts.events.base import ID, NIS_CODE, EventData, Id
from contracts.schedule import DayParts, full_days
from contracts.text import CleanInput
from contracts.topics import REQUESTS, TopicSpec

Urgency = Literal["normal", "urgent", "crisis"]
AnsweredBy = Literal["family", "loket_staff"]
CHILD_REF = Field(min_length=16, max_length=128, description="Keyed HMAC of the child.")
BIRTH_MONTH = Field(
    max_length=7,
    pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
    description="Birth month (or expected birth month), YYYY-MM.",
)
CHOICES = Field(min_length=1, max_length=10, description="Chosen locations, most wanted first.")
SIBLINGS: list[str] = Field(
    default_factory=list, max_length=10,
    description="Requests of brothers and sisters, linked by loket staff: offered places at "
    "the same location where one fits both.",
)


class PriorityFacts(CleanInput):
    """The family facts the priority rules look at, declared by the family with a sworn
    statement (intake refuses them without one). Vulnerability and urgency are not
    among them: loket staff assess those (`RequestAssessed`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    parents_working_or_training: bool = Field(
        default=False,
        description="The parents need care for work, job search, training or integration "
        "(inburgering): the rules before 1 April 2024 (again in force after the 2025 "
        "annulment).",
    )
    works_at_least_four_fifths: bool = Field(
        default=False,
        description="The parents work or train at least 4/5 on average: the rules of "
        "1 April 2024.",
    )
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: list[Id] = Field(default_factory=list, max_length=10)


class RequestSubmitted(EventData):
    """A family registered a request (or the loket did, for it, or a crisis re-opened one)."""

    NAME: ClassVar[str] = "RequestSubmitted"
    VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    child_ref: str = CHILD_REF
    municipality_nis: str = NIS_CODE
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    birth_month: str = BIRTH_MONTH
    desired_start_date: date
    day_parts: DayParts
    accepts_partial_fit: bool = Field(
        default=False,
        description="The family also takes a place covering only part of its day-parts, "
        "where the service area allows partial fits.",
    )
    preferred_location_ids: list[Id] = CHOICES
    sibling_request_ids: list[Id] = SIBLINGS
    priority: PriorityFacts = Field(default_factory=PriorityFacts)
    urgency: Urgency = "normal"
    replaces_request_id: Id | None = Field(
        default=None, description="Set when a crisis closure re-opened an earlier request."
    )
    submitted_at: datetime = Field(
        description="Registration time; an imported waiting list keeps its original dates, "
        "and a crisis request keeps the date of the request it replaces."
    )


class RequestSubmittedV1(EventData):
    """A request as first published: `days_per_week` instead of day-parts."""

    NAME: ClassVar[str] = "RequestSubmitted"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    child_ref: str = CHILD_REF
    municipality_nis: str = NIS_CODE
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    birth_month: str = BIRTH_MONTH
    desired_start_date: date
    days_per_week: int = Field(ge=1, le=5)
    preferred_location_ids: list[Id] = CHOICES
    priority: PriorityFacts = Field(default_factory=PriorityFacts)
    urgency: Urgency = "normal"
    replaces_request_id: Id | None = Field(
        default=None, description="Set when a crisis closure re-opened an earlier request."
    )
    submitted_at: datetime

    def upgraded(self) -> EventData:
        """v1 asked for whole days: that many full days, from Monday."""
        fields = self.model_dump(exclude={"days_per_week"})
        return RequestSubmitted(**fields, day_parts=full_days(self.days_per_week))


class RequestWithdrawn(EventData):
    NAME: ClassVar[str] = "RequestWithdrawn"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: Literal["by_family", "by_loket", "replaced_after_closure"]
    withdrawn_at: datetime


class RequestUpdated(EventData):
    """The family (or loket staff) changed what it asks for; matching re-evaluates.

    Carries the whole new state of the fields a family may change."""

    NAME: ClassVar[str] = "RequestUpdated"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    municipality_nis: str = NIS_CODE
    desired_start_date: date
    day_parts: DayParts
    accepts_partial_fit: bool = False
    preferred_location_ids: list[Id] = CHOICES
    sibling_request_ids: list[Id] = SIBLINGS
    updated_at: datetime


class RequestExpired(EventData):
    """The family did not confirm its request in time: it no longer waits."""

    NAME: ClassVar[str] = "RequestExpired"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: Literal["not_confirmed"] = "not_confirmed"
    confirmation_asked_at: datetime
    expired_at: datetime


class RequestAssessed(EventData):
    """Loket staff assessed whether the family is vulnerable and the request urgent.

    Both need a judgement, so staff make it; published when either outcome changes.
    Only the outcome leaves intake: the characteristics, the family's reason for asking
    urgency and the staff's reasons stay in intake's database."""

    NAME: ClassVar[str] = "RequestAssessed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    municipality_nis: str = NIS_CODE
    vulnerable: bool = Field(
        description="A vulnerable family (kwetsbaar gezin): it meets at least 2 of the 5 "
        "characteristics, at least one of the first three (income, parents' education, "
        "parents' work), as assessed by loket staff."
    )
    urgent: bool = Field(
        description="Urgency granted by loket staff and still in force. A crisis request "
        "stays a crisis request (RequestSubmitted.urgency) whatever this says."
    )
    assessed_at: datetime


class MatchAccepted(EventData):
    """The family accepts an offer; the organiser still has the final say."""

    NAME: ClassVar[str] = "MatchAccepted"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "match_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    keep_waiting_for_higher_choices: bool = Field(
        default=False,
        description="The family takes this place but keeps waiting for the locations it "
        "ranked higher; only lower-ranked choices close once it is placed.",
    )
    answered_by: AnsweredBy = "family"
    accepted_at: datetime


class MatchDeclined(EventData):
    """The family declines an offer: the place passes on, and this location leaves its list."""

    NAME: ClassVar[str] = "MatchDeclined"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "match_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    answered_by: AnsweredBy = "family"
    declined_at: datetime
