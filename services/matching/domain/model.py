"""Who may get a free place: eligibility and fit. Who gets it first is the priority
rules' (`domain/rules.py`, ordered by `domain/ranking.py`).

Eligible: the request still waits at the place's location (an open choice ranked
above every offer or placement it holds), the child's age (from the birth month)
at the place's start date lies in the place's age range, and the start date
fits: from 31 days before to 92 days after the desired start date. A crisis
request (a child of a closed location) needs care from the closure's effective
date: any place starting by then, or within the area's crisis window after it.

Fit: the place covers the asked day-parts ("full"), or, where the service area
allows it and the family accepts it, covers at least the area's minimum share
("partial").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.events.capacity import SubsidyTier
from contracts.events.matching import Fit
from contracts.schedule import FULL_WEEK, DayPart, covers, overlap_share
from services.matching.domain.area_settings import OfferSettings

Urgency = Literal["normal", "urgent", "crisis"]
Addressee = Literal["family", "organiser"]
EARLIEST_BEFORE_START = timedelta(days=31)
LATEST_AFTER_START = timedelta(days=92)


class RequestStatus(StrEnum):
    WAITING = "waiting"  # no live offer, no placement
    PROPOSED = "proposed"  # holds a proposed offer
    ACCEPTED = "accepted"  # accepted an offer; the organiser has not confirmed yet
    PLACED = "placed"  # an organiser confirmed a placement
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"  # the family did not confirm its request in time


ENDED_REQUEST = frozenset({RequestStatus.WITHDRAWN, RequestStatus.EXPIRED})


class PlaceStatus(StrEnum):
    OPEN = "open"
    PROPOSED = "proposed"  # has a live (proposed or accepted) offer
    FILLED = "filled"  # a placement was confirmed
    WITHDRAWN = "withdrawn"  # the organiser took it back
    CANCELLED = "cancelled"  # its location closed


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"


LIVE = frozenset({MatchStatus.PROPOSED, MatchStatus.ACCEPTED})
HOLDING = LIVE | {MatchStatus.CONFIRMED}


class WaitingRequest(BaseModel):
    """A request as matching knows it: what it asks, which choices are still open, and
    which locations it holds an offer or a placement at (it waits only above those)."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    service_area: str
    municipality_nis: str
    birth_month: date  # first day of the birth month
    desired_start_date: date
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    accepts_partial_fit: bool = False
    preferred_location_ids: tuple[str, ...]  # most wanted first
    sibling_location_ids: tuple[str, ...]
    sibling_request_ids: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()  # declared with a sworn statement, and assessed by staff
    urgency: Urgency
    submitted_at: datetime
    status: RequestStatus = RequestStatus.WAITING
    closed_location_ids: tuple[str, ...] = ()  # declined, expired, refused, or closed
    holding_location_ids: tuple[str, ...] = ()  # live offers and confirmed placements

    def rank(self, location_id: str) -> int:
        """0 for the most wanted location; past the end for one no longer chosen."""
        if location_id in self.preferred_location_ids:
            return self.preferred_location_ids.index(location_id)
        return len(self.preferred_location_ids)

    def waits_at(self, location_id: str) -> bool:
        """An open choice ranked above every offer or placement the request holds."""
        if self.status in ENDED_REQUEST:
            return False
        if location_id not in self.preferred_location_ids:
            return False
        if location_id in self.closed_location_ids:
            return False
        rank = self.rank(location_id)
        return all(rank < self.rank(held) for held in self.holding_location_ids)

    def waiting_location_ids(self) -> tuple[str, ...]:
        return tuple(loc for loc in self.preferred_location_ids if self.waits_at(loc))


class KnownLocation(BaseModel):
    """A location as matching knows it: its subsidy tier (which rules bind it) and its
    children, for the required share of priority-group children."""

    model_config = ConfigDict(frozen=True)

    location_id: str
    municipality_nis: str = ""
    subsidy_tier: SubsidyTier = "basic"  # until capacity announces the location
    enrolled: int = 0
    priority_enrolled: int = 0


def as_announced(location: KnownLocation, place: FreePlace) -> KnownLocation:
    """A location capacity has not announced yet takes its municipality from its place."""
    if location.municipality_nis:
        return location
    return location.model_copy(update={"municipality_nis": place.municipality_nis})


def facts_at(request: WaitingRequest, location: KnownLocation) -> frozenset[str]:
    """The request's facts, with those that depend on the location."""
    found = set(request.facts)
    if location.location_id in request.sibling_location_ids:
        found.add("sibling_at_location")
    if request.municipality_nis == location.municipality_nis:
        found.add("lives_in_location_municipality")
    return frozenset(found)


class FreePlace(BaseModel):
    model_config = ConfigDict(frozen=True)

    place_id: str
    service_area: str
    location_id: str
    municipality_nis: str
    available_from: date
    min_age_months: int
    max_age_months: int
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    status: PlaceStatus = PlaceStatus.OPEN


class Match(BaseModel):
    """One offer of one place to one request, with its answer deadlines."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    service_area: str
    request_id: str
    place_id: str
    location_id: str
    location_municipality_nis: str
    request_municipality_nis: str
    proposed_at: datetime
    status: MatchStatus = MatchStatus.PROPOSED
    fit: Fit = "full"
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    family_answer_due: datetime
    family_reminder_due: datetime
    organiser_answer_due: datetime
    family_reminded_at: datetime | None = None
    organiser_reminded_at: datetime | None = None
    keep_waiting: bool = False
    # Why this request got the place: the rule set, its class and a sentence for the family.
    rule_set_id: str | None = None
    priority_class: str | None = None
    explanation: str = ""
    round_id: str | None = None  # set when an allocation round made the offer

    @property
    def live(self) -> bool:
        return self.status in LIVE


def status_of(request: WaitingRequest, holding: list[Match]) -> RequestStatus:
    """A request's status from the offers and placements it holds."""
    if request.status in ENDED_REQUEST:
        return request.status
    found = {match.status for match in holding}
    if MatchStatus.CONFIRMED in found:
        return RequestStatus.PLACED
    if MatchStatus.ACCEPTED in found:
        return RequestStatus.ACCEPTED
    if MatchStatus.PROPOSED in found:
        return RequestStatus.PROPOSED
    return RequestStatus.WAITING


def holding_now(request: WaitingRequest, holding: list[Match]) -> WaitingRequest:
    """The request with its status and where it holds something, from what it holds."""
    return request.model_copy(update={
        "status": status_of(request, holding),
        "holding_location_ids": tuple(dict.fromkeys(m.location_id for m in holding)),
    })


def age_in_months(birth_month: date, on: date) -> int:
    return (on.year - birth_month.year) * 12 + on.month - birth_month.month


def is_eligible(request: WaitingRequest, place: FreePlace, rules: OfferSettings) -> bool:
    """Age and start-date rules, at a location the request still waits at."""
    return request.waits_at(place.location_id) and age_and_dates_fit(request, place, rules)


def age_and_dates_fit(request: WaitingRequest, place: FreePlace, rules: OfferSettings) -> bool:
    """The child's age at the place's start, and the start against the desired date."""
    age = age_in_months(request.birth_month, place.available_from)
    if not place.min_age_months <= age <= place.max_age_months:
        return False
    if request.urgency == "crisis":
        return place.available_from <= request.desired_start_date + timedelta(
            days=rules.crisis_window_days)
    earliest = request.desired_start_date - EARLIEST_BEFORE_START
    return earliest <= place.available_from <= request.desired_start_date + LATEST_AFTER_START


def offered_start(request: WaitingRequest, place: FreePlace) -> date:
    """The day the child would start. A crisis child is still in care at its closing
    location until the closure's date (its desired start), so an earlier place starts it
    then, never while it is enrolled twice."""
    if request.urgency == "crisis":
        return max(place.available_from, request.desired_start_date)
    return place.available_from


def schedule_fit(request: WaitingRequest, place: FreePlace, rules: OfferSettings) -> Fit | None:
    """Full when the place covers every asked day-part; partial when the area allows it,
    the family accepts it and the place covers enough; otherwise no fit."""
    if covers(place.day_parts, request.day_parts):
        return "full"
    if (rules.partial_fit_allowed and request.accepts_partial_fit
            and overlap_share(place.day_parts, request.day_parts) >= rules.partial_fit_min_share):
        return "partial"
    return None


def fit_of(request: WaitingRequest, place: FreePlace, rules: OfferSettings) -> Fit | None:
    """How a place fits a request (None: not at all)."""
    return schedule_fit(request, place, rules) if is_eligible(request, place, rules) else None



def still_fits(request: WaitingRequest, match: Match, place: FreePlace,
               rules: OfferSettings) -> bool:
    """After a change to the request: does its offer still fit (location still chosen,
    age, dates and day-parts)? The offer's own location counts as waited at."""
    if match.location_id not in request.preferred_location_ids:
        return False
    holding = tuple(loc for loc in request.holding_location_ids if loc != match.location_id)
    free = request.model_copy(update={
        "status": RequestStatus.WAITING, "holding_location_ids": holding,
        "closed_location_ids": tuple(loc for loc in request.closed_location_ids
                                     if loc != match.location_id)})
    return fit_of(free, place, rules) is not None


def best_place(places: list[FreePlace], request: WaitingRequest,
               rules: OfferSettings) -> tuple[FreePlace, Fit] | None:
    """For a request: full fits before partial ones, then its most wanted location,
    then the earliest start."""
    fitting = [(place, fit) for place in places
               if (fit := fit_of(request, place, rules)) is not None]
    return min(
        fitting,
        key=lambda pair: (
            pair[1] != "full",
            request.rank(pair[0].location_id),
            pair[0].available_from,
            pair[0].place_id,
        ),
        default=None,
    )


def born_between(place: FreePlace) -> tuple[date, date]:
    """The birth months of the children of an age the place takes on its start date."""
    month = place.available_from.replace(day=1)
    return shift_months(month, -place.max_age_months), shift_months(month, -place.min_age_months)


def shift_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
