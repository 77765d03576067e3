"""Who gets a free place: eligibility and a simple, documented ordering.

Eligible: the place's location is among the family's chosen locations, the
child's age (from the birth month) at the place's start date lies in the
place's age range, and the start date fits: from 31 days before to 92 days
after the desired start date. Crisis requests (children of a closed location)
skip the start-date window: they need a place now.

Order, best first (the full, versioned priority rules come in their own issue):
  1. urgency: crisis, then urgent, then normal;
  2. more priority facts (parents working or in training, single parent, low
     income, foster child, a sibling at this location);
  3. the family's own ranking of this location;
  4. earlier registration; then request id, so the order is total.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

Urgency = Literal["normal", "urgent", "crisis"]
URGENCY_RANK: dict[str, int] = {"crisis": 0, "urgent": 1, "normal": 2}
EARLIEST_BEFORE_START = timedelta(days=31)
LATEST_AFTER_START = timedelta(days=92)


class RequestStatus(StrEnum):
    WAITING = "waiting"
    PROPOSED = "proposed"  # has a live proposal: waits no more
    WITHDRAWN = "withdrawn"


class PlaceStatus(StrEnum):
    OPEN = "open"
    PROPOSED = "proposed"
    CANCELLED = "cancelled"  # its location closed


class WaitingRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: str
    service_area: str
    municipality_nis: str
    birth_month: date  # first day of the birth month
    desired_start_date: date
    preferred_location_ids: tuple[str, ...]
    sibling_location_ids: tuple[str, ...]
    priority_facts: int  # family facts, without siblings (those depend on the location)
    urgency: Urgency
    submitted_at: datetime
    status: RequestStatus = RequestStatus.WAITING


class FreePlace(BaseModel):
    model_config = ConfigDict(frozen=True)

    place_id: str
    service_area: str
    location_id: str
    municipality_nis: str
    available_from: date
    min_age_months: int
    max_age_months: int
    status: PlaceStatus = PlaceStatus.OPEN


class Match(BaseModel):
    """A proposal of one place to one request; `active` until the request is withdrawn."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    request_id: str
    place_id: str
    location_id: str
    proposed_at: datetime
    active: bool = True


def age_in_months(birth_month: date, on: date) -> int:
    return (on.year - birth_month.year) * 12 + on.month - birth_month.month


def is_eligible(request: WaitingRequest, place: FreePlace) -> bool:
    if place.location_id not in request.preferred_location_ids:
        return False
    age = age_in_months(request.birth_month, place.available_from)
    if not place.min_age_months <= age <= place.max_age_months:
        return False
    if request.urgency == "crisis":
        return True
    earliest = request.desired_start_date - EARLIEST_BEFORE_START
    return earliest <= place.available_from <= request.desired_start_date + LATEST_AFTER_START


def ordering_key(request: WaitingRequest, place: FreePlace) -> tuple[int, int, int, datetime, str]:
    return (
        URGENCY_RANK[request.urgency],
        -priority_points(request, place),
        request.preferred_location_ids.index(place.location_id),
        request.submitted_at,
        request.request_id,
    )


def priority_points(request: WaitingRequest, place: FreePlace) -> int:
    return request.priority_facts + (place.location_id in request.sibling_location_ids)


def best_request(candidates: list[WaitingRequest], place: FreePlace) -> WaitingRequest | None:
    eligible = [request for request in candidates if is_eligible(request, place)]
    return min(eligible, key=lambda request: ordering_key(request, place), default=None)


def best_place(places: list[FreePlace], request: WaitingRequest) -> FreePlace | None:
    """For a new request: the open place it fits, its most wanted location first."""
    eligible = [place for place in places if is_eligible(request, place)]
    return min(
        eligible,
        key=lambda place: (
            request.preferred_location_ids.index(place.location_id),
            place.available_from,
            place.place_id,
        ),
        default=None,
    )


def explain(request: WaitingRequest, place: FreePlace) -> str:
    return (
        f"urgency {request.urgency}; priority points {priority_points(request, place)}; "
        f"choice {request.preferred_location_ids.index(place.location_id) + 1}; "
        f"registered {request.submitted_at.date().isoformat()}"
    )


def shift_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
