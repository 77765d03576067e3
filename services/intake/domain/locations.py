"""Locations families can choose, those within a family's distance, and which of them
to offer after a crisis closure.

Pure rules, no I/O: the postcode coordinates come in as a mapping (intake ships
them in `reference/postcodes.csv`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict

# postcode -> (longitude, latitude), in degrees (WGS 84)
Coordinates = Mapping[str, tuple[float, float]]

# A request names at most this many locations (RequestSubmitted's preferred_location_ids).
MAX_CHOICES = 10
EARTH_RADIUS_KM = 6371.0


class Location(BaseModel):
    """A location as capacity announced it (public directory data)."""

    model_config = ConfigDict(frozen=True)

    location_id: str
    service_area: str
    name: str
    municipality_nis: str
    postcode: str
    subsidy_tier: str
    closed: bool = False
    # The released crisis closure that closed it, and from when (see CrisisClosure).
    closure_id: str | None = None
    closed_from: date | None = None
    # Who runs it: only that organiser sees the contact of a family that accepted there.
    organiser_id: str | None = None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line (great-circle) distance between two (longitude, latitude) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def nearest(
    locations: Iterable[Location],
    postcode: str,
    coordinates: Coordinates,
    limit: int = MAX_CHOICES,
) -> list[Location]:
    """The `limit` locations nearest to `postcode`, nearest first. A location (or a
    family) whose postcode has no coordinates ranks last; equal distances by id."""
    origin = coordinates.get(postcode)

    def rank(location: Location) -> tuple[float, str]:
        here = coordinates.get(location.postcode)
        if origin is None or here is None:
            return (math.inf, location.location_id)
        return (distance_km(origin, here), location.location_id)

    return sorted(locations, key=rank)[:limit]


def within_distance(
    locations: Iterable[Location],
    postcode: str,
    max_distance_km: float,
    coordinates: Coordinates,
) -> list[Location]:
    """The locations within `max_distance_km` of `postcode` (straight line between the
    postcodes' coordinates), nearest first, equal distances by id. None are when the
    family's postcode has no coordinates; a location without them never is."""
    origin = coordinates.get(postcode)
    if origin is None:
        return []
    near = [location for location in locations
            if (here := coordinates.get(location.postcode)) is not None
            and distance_km(origin, here) <= max_distance_km]
    return nearest(near, postcode, coordinates, limit=len(near))


def crisis_choices(
    preferred: Sequence[str],
    closed_location_id: str,
    postcode: str,
    open_locations: Sequence[Location],
    coordinates: Coordinates,
) -> tuple[str, ...]:
    """What a family whose proposal was at a closed location is offered instead: its
    own remaining choices that are still open, or else the open locations of the
    area nearest to its postcode, at most `MAX_CHOICES`, so that the new request
    stays a valid RequestSubmitted however many locations the area has."""
    open_ids = {location.location_id for location in open_locations}
    remaining = tuple(
        location_id for location_id in preferred
        if location_id != closed_location_id and location_id in open_ids
    )
    if remaining:
        return remaining[:MAX_CHOICES]
    candidates = [loc for loc in open_locations if loc.location_id != closed_location_id]
    return tuple(location.location_id for location in nearest(candidates, postcode, coordinates))
