"""Registration figures: what is counted, where, and the shortage that follows.

Pure rules, no I/O. The database counts facts with GROUP BY per service area
and municipality (a "cell"); this module names the counts and derives each
cell's shortage; `report` adds cells up into municipalities, areas and totals.
Waiting times (median and 90th percentile) do not add up: the database computes
them per municipality, per service area and in total (`Durations`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

from contracts.schedule import DAY_PARTS

UNKNOWN_NAME = "onbekend"
REFUSAL_REASONS: tuple[str, ...] = (
    "age_group_full", "day_parts_not_available", "care_need_not_met", "other")


@dataclass(frozen=True)
class Municipality:
    nis: str
    name: str
    arrondissement: str | None = None
    province: str | None = None
    inhabitants: int | None = None

    @classmethod
    def unknown(cls, nis: str) -> Municipality:
        """A code outside the reference list is still counted, never dropped."""
        return cls(nis, UNKNOWN_NAME)


def shortage(open_requests: int, open_free_places: int) -> int:
    """Open requests no open free place can answer; a surplus is no negative shortage."""
    return max(0, open_requests - open_free_places)


@dataclass(frozen=True)
class Figures:
    # Requests, at the family's municipality.
    requests_submitted: int = 0
    requests_open: int = 0  # waiting: no live offer, not placed, withdrawn or expired
    requests_withdrawn: int = 0
    requests_expired: int = 0  # not confirmed in time
    crisis_requests: int = 0  # where the location closed
    # Offers and their outcomes, at the location's municipality.
    proposals: int = 0
    offers_accepted: int = 0
    declined_by_family: int = 0
    refused_age_group_full: int = 0
    refused_day_parts_not_available: int = 0
    refused_care_need_not_met: int = 0
    refused_other: int = 0
    offers_expired: int = 0
    offers_cancelled: int = 0
    placed: int = 0
    # The same placements at the family's municipality.
    placed_family: int = 0
    enrolments_ended: int = 0
    # Supply, at the location's municipality.
    free_places: int = 0  # every place announced free
    free_places_open: int = 0  # of those: no live offer, not filled, withdrawn or closed
    places_withdrawn: int = 0
    locations: int = 0
    closures: int = 0
    # Occupancy now: licensed places of open locations, enrolled children per day-part.
    licensed_places: int = 0
    enrolled_mon_am: int = 0
    enrolled_mon_pm: int = 0
    enrolled_tue_am: int = 0
    enrolled_tue_pm: int = 0
    enrolled_wed_am: int = 0
    enrolled_wed_pm: int = 0
    enrolled_thu_am: int = 0
    enrolled_thu_pm: int = 0
    enrolled_fri_am: int = 0
    enrolled_fri_pm: int = 0
    shortage: int = 0

    @classmethod
    def of_cell(cls, counted: Mapping[str, int]) -> Figures:
        """The figures of one service area in one municipality, from its counted facts."""
        values = {name: counted.get(name, 0) for name in COUNTED}
        open_requests, open_places = values["requests_open"], values["free_places_open"]
        return cls(**values, shortage=shortage(open_requests, open_places))

    def __add__(self, other: Figures) -> Figures:
        # Shortages add up too: a free place in one municipality does not cure
        # another's shortage, so a total is the sum of its parts' shortages.
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)})

    def enrolled(self) -> dict[str, int]:
        """Enrolled children per day-part, Monday morning first."""
        return {part: int(getattr(self, f"enrolled_{part}")) for part in DAY_PARTS}


FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Figures))
COUNTED: frozenset[str] = frozenset(FIGURE_NAMES) - {"shortage"}
ENROLLED_FIGURES: tuple[str, ...] = tuple(f"enrolled_{part}" for part in DAY_PARTS)

Measure = Literal["first_offer", "placement"]
Scope = Literal["municipality", "service_area", "total"]
MEASURES: tuple[Measure, ...] = ("first_offer", "placement")


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered: Sequence[float] = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def days_between(start_seconds: float, end_seconds: float) -> float:
    """Days from one moment to a later one (never negative: clocks may disagree)."""
    return max(0.0, (end_seconds - start_seconds) / 86400)


@dataclass(frozen=True)
class WaitingTimes:
    """One measure's waiting times in one group (days), computed by the database."""

    scope: Scope
    key: str  # the municipality's or service area's code; "" for the total
    measure: Measure
    median_days: float | None
    p90_days: float | None
    requests: int


@dataclass(frozen=True)
class Durations:
    """Days from registration to the first offer and to placement, of the families
    living in the group's municipalities (crisis requests left out: they keep the
    original registration date of a family that had been placed)."""

    median_days_to_first_offer: float | None = None
    p90_days_to_first_offer: float | None = None
    median_days_to_placement: float | None = None
    p90_days_to_placement: float | None = None

    @classmethod
    def of(cls, rows: Iterable[WaitingTimes]) -> Durations:
        values: dict[str, float | None] = {}
        for row in rows:
            suffix = "first_offer" if row.measure == "first_offer" else "placement"
            values[f"median_days_to_{suffix}"] = one_decimal(row.median_days)
            values[f"p90_days_to_{suffix}"] = one_decimal(row.p90_days)
        return cls(**values)


def one_decimal(days: float | None) -> float | None:
    return None if days is None else round(days, 1)
