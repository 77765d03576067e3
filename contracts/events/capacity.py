"""Events about locations and places, published by capacity.

Organisers' own systems may publish PlaceFreed to loket.capacity.inbound.v1;
capacity validates and republishes it here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from contracts.events.base import ID, ID_LENGTH, ID_PATTERN, NIS_CODE, EventData
from contracts.topics import CAPACITY, TopicSpec

SubsidyTier = Literal["basic", "income_related", "plus", "free_price"]
ClosureReason = Literal["licence_suspended", "licence_revoked", "bankruptcy", "force_majeure"]
AGE_MONTHS = Field(ge=0, le=48)


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


class PlaceFreed(EventData):
    NAME: ClassVar[str] = "PlaceFreed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "place_id"

    place_id: str = Field(
        min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN,
        description="Unique per free place; announcing the same place_id again changes nothing.",
    )
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    available_from: date
    min_age_months: int = AGE_MONTHS
    max_age_months: int = AGE_MONTHS
    freed_at: datetime

    @model_validator(mode="after")
    def _age_range(self) -> PlaceFreed:
        if self.min_age_months > self.max_age_months:
            raise ValueError("min_age_months must not exceed max_age_months")
        return self


class CrisisClosure(EventData):
    NAME: ClassVar[str] = "CrisisClosure"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = CAPACITY
    SUBJECT_FIELD: ClassVar[str] = "location_id"

    closure_id: str = ID
    location_id: str = ID
    municipality_nis: str = NIS_CODE
    reason: ClosureReason
    effective_from: date
    announced_at: datetime
