"""Events about childcare requests, published by intake.

Pseudonymous by design: no names, national numbers, addresses or contact
details. `child_ref` is a keyed HMAC whose key never enters Kafka.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from contracts.events.base import ID, NIS_CODE, EventData, Id
from contracts.text import CleanInput
from contracts.topics import REQUESTS, TopicSpec

Urgency = Literal["normal", "urgent", "crisis"]


class PriorityFacts(CleanInput):
    """The family facts the priority rules look at (sworn statement)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    parents_working_or_training: bool = False
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: list[Id] = Field(default_factory=list, max_length=10)


class RequestSubmitted(EventData):
    NAME: ClassVar[str] = "RequestSubmitted"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    child_ref: str = Field(min_length=16, max_length=128, description="Keyed HMAC of the child.")
    municipality_nis: str = NIS_CODE
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    birth_month: str = Field(
        max_length=7,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="Birth month (or expected birth month), YYYY-MM.",
    )
    desired_start_date: date
    days_per_week: int = Field(ge=1, le=5)
    preferred_location_ids: list[Id] = Field(
        min_length=1, max_length=10, description="Chosen locations, most wanted first."
    )
    priority: PriorityFacts = Field(default_factory=PriorityFacts)
    urgency: Urgency = "normal"
    replaces_request_id: Id | None = Field(
        default=None, description="Set when a crisis closure re-opened an earlier request."
    )
    submitted_at: datetime


class RequestWithdrawn(EventData):
    NAME: ClassVar[str] = "RequestWithdrawn"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = REQUESTS
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    request_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: Literal["by_family", "by_loket", "replaced_after_closure"]
    withdrawn_at: datetime
