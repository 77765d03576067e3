"""Locations, their free places and closures: what capacity checks before publishing.

Pure rules, no I/O. A `CapacityRuleError` (422) names the input at fault; a
`CapacityConflict` (409) marks input that is well-formed but clashes with the
location's current state (closed, full, already registered).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from loketkit.errors import Conflict, Invalid

SubsidyTier = Literal["basic", "income_related", "plus", "free_price"]
ClosureReason = Literal["licence_suspended", "licence_revoked", "bankruptcy", "force_majeure"]

# Organisers report a freed place a few weeks late at times; older dates are mistakes.
AVAILABLE_FROM_GRACE = timedelta(days=31)


class PlaceStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class PlaceSource(StrEnum):
    """Who announced the place: the loket's API, or an organiser's own system."""

    API = "api"
    ORGANISER = "organiser"


class CapacityRuleError(Invalid):
    """A rule refused the input; `field` names the input at fault."""


class CapacityConflict(Conflict):
    """The input clashes with the current state rather than being invalid in itself."""


class PlaceOffer(BaseModel):
    """Free places as announced; an absent age bound means the location's own."""

    model_config = ConfigDict(frozen=True)

    available_from: date
    min_age_months: int | None = None
    max_age_months: int | None = None


class FreePlace(BaseModel):
    model_config = ConfigDict(frozen=True)

    place_id: str
    location_id: str
    available_from: date
    min_age_months: int
    max_age_months: int
    source: PlaceSource
    status: PlaceStatus = PlaceStatus.OPEN


class Closure(BaseModel):
    model_config = ConfigDict(frozen=True)

    closure_id: str
    location_id: str
    reason: ClosureReason
    effective_from: date
    announced_at: datetime
    # The free places the closure cancelled (known once they are cancelled in storage).
    cancelled_place_ids: tuple[str, ...] = ()


class Location(BaseModel):
    location_id: str
    service_area: str
    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    subsidy_tier: SubsidyTier
    min_age_months: int = 0
    max_age_months: int = 36
    closed: bool = False
    open_free_places: int = 0

    def check_origin(self, service_area: str, municipality_nis: str) -> None:
        """An organiser's announcement must describe this location as the loket knows it."""
        if service_area != self.service_area:
            raise CapacityRuleError("service_area", "the location belongs to another service area")
        if municipality_nis != self.municipality_nis:
            raise CapacityRuleError("municipality_nis", "not the location's municipality")

    def offer(
        self, place_ids: Sequence[str], offer: PlaceOffer, source: PlaceSource, today: date
    ) -> list[FreePlace]:
        """Accept free places, all or none, and count them as open."""
        low = self.min_age_months if offer.min_age_months is None else offer.min_age_months
        high = self.max_age_months if offer.max_age_months is None else offer.max_age_months
        if self.closed:
            raise CapacityConflict("location_id", "the location is closed")
        if not place_ids:
            raise CapacityRuleError("count", "at least one place")
        if low > high:
            raise CapacityRuleError("min_age_months", "must not exceed max_age_months")
        if low < self.min_age_months:
            raise CapacityRuleError(
                "min_age_months", f"below the location's minimum of {self.min_age_months}"
            )
        if high > self.max_age_months:
            raise CapacityRuleError(
                "max_age_months", f"above the location's maximum of {self.max_age_months}"
            )
        if offer.available_from < today - AVAILABLE_FROM_GRACE:
            raise CapacityRuleError(
                "available_from", f"more than {AVAILABLE_FROM_GRACE.days} days in the past"
            )
        if self.open_free_places + len(place_ids) > self.capacity:
            raise CapacityConflict(
                "count",
                f"{self.open_free_places} of the location's {self.capacity} places are already "
                "free",
            )
        self.open_free_places += len(place_ids)
        return [
            FreePlace(
                place_id=place_id,
                location_id=self.location_id,
                available_from=offer.available_from,
                min_age_months=low,
                max_age_months=high,
                source=source,
            )
            for place_id in place_ids
        ]

    def close(
        self, closure_id: str, reason: ClosureReason, effective_from: date, announced_at: datetime
    ) -> Closure:
        """Close for good: the location's open free places no longer count."""
        if self.closed:
            raise CapacityConflict("location_id", "the location is already closed")
        self.closed = True
        self.open_free_places = 0
        return Closure(
            closure_id=closure_id,
            location_id=self.location_id,
            reason=reason,
            effective_from=effective_from,
            announced_at=announced_at,
        )


def check_new_location(location: Location, area_municipalities: frozenset[str]) -> None:
    if location.municipality_nis not in area_municipalities:
        raise CapacityRuleError(
            "municipality_nis",
            f"municipality {location.municipality_nis} is not served by this loket",
        )
    if location.capacity < 1:
        raise CapacityRuleError("capacity", "must be at least 1")
    if location.min_age_months > location.max_age_months:
        raise CapacityRuleError("min_age_months", "must not exceed max_age_months")
