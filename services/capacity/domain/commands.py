"""What the routes ask capacity to do: one frozen dataclass per command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.capacity.domain.model import ClosureReason, SubsidyTier


@dataclass(frozen=True)
class RegisterLocation:
    """A location of an organiser; it keeps the organiser's own id when one is given."""

    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    subsidy_tier: SubsidyTier
    min_age_months: int = 0
    max_age_months: int = 36
    location_id: str | None = None


@dataclass(frozen=True)
class OfferFreePlaces:
    """`count` identical free places; absent age bounds are the location's own."""

    location_id: str
    available_from: date
    count: int = 1
    min_age_months: int | None = None
    max_age_months: int | None = None


@dataclass(frozen=True)
class CloseLocation:
    location_id: str
    reason: ClosureReason
    effective_from: date
