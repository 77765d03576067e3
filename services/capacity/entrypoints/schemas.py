"""HTTP request and response bodies (Create/Public naming).

Request bodies derive from `CleanInput` (no control characters) and bound every
string; the limits mirror the event contracts, so anything accepted here can be
published.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.capacity import ClosureReason, SubsidyTier
from contracts.text import CleanInput

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
    capacity: int = Field(ge=1, le=500, description="Licensed places")
    subsidy_tier: SubsidyTier
    min_age_months: int = Field(default=0, ge=0, le=48, description="Youngest age accepted")
    max_age_months: int = Field(default=36, ge=0, le=48, description="Oldest age accepted")


class LocationPublic(BaseModel):
    location_id: str
    service_area: str
    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    subsidy_tier: str
    min_age_months: int
    max_age_months: int
    closed: bool
    open_free_places: int


class FreePlacesCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    available_from: date
    min_age_months: int | None = Field(default=None, ge=0, le=48,
                                       description="Defaults to the location's minimum")
    max_age_months: int | None = Field(default=None, ge=0, le=48,
                                       description="Defaults to the location's maximum")
    count: int = Field(default=1, ge=1, le=50, description="Identical places to announce")


class FreePlacesPublic(BaseModel):
    location_id: str
    place_ids: list[str]


class ClosureCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    reason: ClosureReason
    effective_from: date


class ClosurePublic(BaseModel):
    closure_id: str
    location_id: str
    reason: str
    effective_from: date
    announced_at: datetime
    cancelled_place_ids: list[str]
