"""HTTP bodies: `*Create` is what a caller sends, `*Public` what intake answers.

Request bodies derive from `CleanInput` (no control characters) and bound every
string and list, so nothing a caller sends can outgrow a column or an event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from contracts.events.base import Id
from contracts.text import CleanInput
from services.intake.domain.model import Status

NIS = Field(max_length=5, pattern=r"^\d{5}$", description="NIS code of the family's municipality")


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
    model_config = ConfigDict(extra="forbid")
    parents_working_or_training: bool = False
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
    days_per_week: int = Field(ge=1, le=5)
    preferred_location_ids: list[Id] = Field(min_length=1, max_length=10)
    priority: PriorityCreate = Field(default_factory=PriorityCreate)
    urgency: Literal["normal", "urgent"] = "normal"


class RequestPublic(BaseModel):
    request_id: str
    status: Status
    urgency: str
    municipality_nis: str
    desired_start_date: date
    preferred_location_ids: list[str]
    submitted_at: datetime
    replaces_request_id: str | None
    replaced_by_request_id: str | None
    erased_at: datetime | None
    match_id: str | None
    proposed_location_id: str | None
    proposed_place_id: str | None


class LocationPublic(BaseModel):
    location_id: str
    name: str
    municipality_nis: str
    postcode: str
    subsidy_tier: str
    closed: bool
