"""HTTP request and response bodies (Base/Create/Public naming)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

NIS = Field(pattern=r"^\d{5}$", description="NIS code of the family's municipality")


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date = Field(description="Birth date, or expected birth date")
    national_number: str | None = Field(default=None, pattern=r"^\d{11}$")


class ParentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ./-]{6,20}$")
    street: str | None = Field(default=None, max_length=200)
    postcode: str = Field(pattern=r"^\d{4}$")


class PriorityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parents_working_or_training: bool = False
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: list[str] = Field(default_factory=list, max_length=10)


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    child: ChildCreate
    parent: ParentCreate
    municipality_nis: str = NIS
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    desired_start_date: date
    days_per_week: int = Field(ge=1, le=5)
    preferred_location_ids: list[str] = Field(min_length=1, max_length=10)
    priority: PriorityCreate = Field(default_factory=PriorityCreate)
    urgency: Literal["normal", "urgent"] = "normal"


class RequestPublic(BaseModel):
    request_id: str
    status: str
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
