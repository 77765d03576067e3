"""Locations, free places, offers, enrolments and closures: what capacity checks before
publishing.

Pure rules, no I/O. A `CapacityRuleError` (422) names the input at fault; a
`CapacityConflict` (409) marks input that is well-formed but clashes with the
location's current state (closed, full, already registered, offered).

A licence caps the children present at the same time, per day-part. Occupancy of a
day-part at a date is the enrolments active then that cover it plus the open free
places that cover it; a new free place is refused only when, for a day-part it
covers, that would exceed the licence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from contracts.schedule import DAY_PARTS, FULL_WEEK, DayPart, in_week_order
from loketkit.errors import Conflict, Invalid

SubsidyTier = Literal["basic", "income_related", "plus", "free_price"]
ClosureReason = Literal["licence_suspended", "licence_revoked", "bankruptcy", "force_majeure"]
RefusalReason = Literal["age_group_full", "day_parts_not_available", "care_need_not_met", "other"]
EnrolmentEndReason = Literal["left", "moved_to_other_choice", "location_closed", "other"]

# Organisers report a freed place a few weeks late at times; older dates are mistakes.
AVAILABLE_FROM_GRACE = timedelta(days=31)


class PlaceStatus(StrEnum):
    OPEN = "open"  # announced; may be offered (an offer does not change this)
    FILLED = "filled"  # the organiser confirmed a child for it
    WITHDRAWN = "withdrawn"  # the organiser took it back
    CANCELLED = "cancelled"  # the location closed


class PlaceSource(StrEnum):
    """Who announced the place: the loket's API, or an organiser's own system."""

    API = "api"
    ORGANISER = "organiser"


class OfferStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"  # by the family; the organiser still has the final say
    CONFIRMED = "confirmed"  # by the organiser: an enrolment
    REFUSED = "refused"  # by the organiser
    ENDED = "ended"  # declined, expired or cancelled

    @property
    def live(self) -> bool:
        return self in (OfferStatus.PROPOSED, OfferStatus.ACCEPTED)

    @property
    def rank(self) -> int:
        """Events about one offer may arrive out of order: a later status never goes back."""
        return 0 if self is OfferStatus.PROPOSED else 1 if self is OfferStatus.ACCEPTED else 2


class EnrolmentSource(StrEnum):
    LOKET = "loket"  # a confirmed placement
    DECLARED = "declared"  # admitted outside the loket, declared by the organiser


class ClosureStatus(StrEnum):
    REGISTERED = "registered"  # confidential: nothing published, nothing changed
    RELEASED = "released"  # CrisisClosure published; the location is closed


class CapacityRuleError(Invalid):
    """A rule refused the input; `field` names the input at fault."""


class CapacityConflict(Conflict):
    """The input clashes with the current state rather than being invalid in itself."""


def schedule(parts: Iterable[str]) -> tuple[DayPart, ...]:
    """Day-parts in week order, without repeats; unknown names are dropped."""
    wanted = set(parts)
    return tuple(in_week_order(part for part in DAY_PARTS if part in wanted))


class PlaceOffer(BaseModel):
    """Free places as announced; an absent age bound means the location's own."""

    model_config = ConfigDict(frozen=True)

    available_from: date
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    min_age_months: int | None = None
    max_age_months: int | None = None


class FreePlace(BaseModel):
    model_config = ConfigDict(frozen=True)

    place_id: str
    location_id: str
    available_from: date
    day_parts: tuple[DayPart, ...] = FULL_WEEK
    min_age_months: int
    max_age_months: int
    source: PlaceSource
    status: PlaceStatus = PlaceStatus.OPEN


class Enrolment(BaseModel):
    """A child at a location, pseudonymous. `ends_on` is the first day it no longer
    counts (its day-parts are free again from then); None while it lasts."""

    model_config = ConfigDict(frozen=True)

    enrolment_id: str
    location_id: str
    day_parts: tuple[DayPart, ...]
    start_date: date
    ends_on: date | None = None
    end_reason: EnrolmentEndReason | None = None
    request_id: str | None = None
    match_id: str | None = None
    priority_group: bool = False
    source: EnrolmentSource = EnrolmentSource.LOKET

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.ends_on is None or day < self.ends_on)

    def active_from(self, day: date) -> bool:
        """Counts on `day` or on any later day."""
        return self.ends_on is None or day < self.ends_on

    def end(self, ends_on: date, reason: EnrolmentEndReason) -> Enrolment:
        """Ends it from `ends_on`; an end already planned for later moves earlier (a
        closure or a move comes first), one planned for then or before stands."""
        if self.ends_on is not None and self.ends_on <= ends_on:
            raise CapacityConflict("enrolment_id", "the enrolment has already ended")
        return self.model_copy(update={"ends_on": ends_on, "end_reason": reason})


class Offer(BaseModel):
    """An offer as capacity sees it: pseudonymous, for the organiser's work list.

    Built from MatchProposed; an answer may arrive first (another topic), so the
    proposal's details are optional until it is read."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    request_id: str
    place_id: str
    location_id: str
    status: OfferStatus = OfferStatus.PROPOSED
    start_date: date | None = None
    day_parts: tuple[DayPart, ...] = ()
    requested_day_parts: tuple[DayPart, ...] = ()
    priority_group: bool = False
    family_answer_due: datetime | None = None
    organiser_answer_due: datetime | None = None
    keep_waiting_for_higher_choices: bool = False
    ended_reason: str | None = None

    @property
    def proposed(self) -> bool:
        """The proposal itself was read (not only an answer to it)."""
        return self.start_date is not None

    def moved_to(self, status: OfferStatus, **changes: object) -> Offer:
        """The offer in a later status; an earlier or equal status changes nothing."""
        if status.rank <= self.status.rank:
            return self
        return self.model_copy(update={"status": status, **changes})

    def default_day_parts(self) -> tuple[DayPart, ...]:
        """What the family asked for, as far as the place covers it."""
        asked = set(self.requested_day_parts)
        both = schedule(part for part in self.day_parts if part in asked)
        return both or self.day_parts

    def check_confirmable(self) -> None:
        if self.status is not OfferStatus.ACCEPTED:
            raise CapacityConflict(
                "match_id", f"the offer is {self.status}: only an offer the family "
                "accepted can be confirmed")

    def check_refusable(self) -> None:
        if not self.status.live:
            raise CapacityConflict("match_id", f"the offer is {self.status}: it cannot be refused")

    def check_schedule(self, day_parts: Sequence[DayPart]) -> None:
        if not day_parts:
            raise CapacityRuleError("day_parts", "at least one day-part")
        if self.day_parts and not set(day_parts) <= set(self.day_parts):
            raise CapacityConflict("day_parts", "the place does not cover these day-parts")


class AffectedEnrolment(BaseModel):
    model_config = ConfigDict(frozen=True)

    enrolment_id: str
    request_id: str | None = None
    day_parts: tuple[DayPart, ...]


class AffectedOffer(BaseModel):
    model_config = ConfigDict(frozen=True)

    match_id: str
    request_id: str
    place_id: str
    status: OfferStatus


class Closure(BaseModel):
    """A closure, confidential until the area's coordinator releases it."""

    model_config = ConfigDict(frozen=True)

    closure_id: str
    location_id: str
    service_area: str
    reason: ClosureReason
    effective_from: date
    expected_end: date | None = None
    status: ClosureStatus = ClosureStatus.REGISTERED
    registered_at: datetime
    released_at: datetime | None = None
    # Known once released: the children it reaches, and the places it cancelled.
    affected_enrolments: tuple[AffectedEnrolment, ...] = ()
    open_offers: tuple[AffectedOffer, ...] = ()
    cancelled_place_ids: tuple[str, ...] = ()

    def released(
        self,
        at: datetime,
        enrolments: Iterable[Enrolment],
        offers: Iterable[Offer],
        cancelled_place_ids: Iterable[str],
    ) -> Closure:
        if self.status is ClosureStatus.RELEASED:
            raise CapacityConflict("closure_id", "the closure has already been released")
        return self.model_copy(update={
            "status": ClosureStatus.RELEASED,
            "released_at": at,
            "affected_enrolments": tuple(
                AffectedEnrolment(enrolment_id=e.enrolment_id, request_id=e.request_id,
                                  day_parts=e.day_parts)
                for e in sorted(enrolments, key=lambda e: e.enrolment_id)),
            "open_offers": tuple(
                AffectedOffer(match_id=o.match_id, request_id=o.request_id,
                              place_id=o.place_id, status=o.status)
                for o in sorted(offers, key=lambda o: o.match_id)),
            "cancelled_place_ids": tuple(sorted(cancelled_place_ids)),
        })


class DayPartOccupancy(BaseModel):
    model_config = ConfigDict(frozen=True)

    day_part: DayPart
    licensed: int
    enrolled: int
    free: int

    @property
    def available(self) -> int:
        return self.licensed - self.enrolled - self.free


def occupancy(
    licensed: int, enrolments: Iterable[Enrolment], open_places: Iterable[FreePlace], on: date
) -> list[DayPartOccupancy]:
    """Per day-part at a date: enrolments active then, and open free places, covering it."""
    active = [e for e in enrolments if e.active_on(on)]
    places = [p for p in open_places if p.status is PlaceStatus.OPEN]
    return [
        DayPartOccupancy(
            day_part=part,
            licensed=licensed,
            enrolled=sum(part in e.day_parts for e in active),
            free=sum(part in p.day_parts for p in places),
        )
        for part in DAY_PARTS
    ]


class Location(BaseModel):
    location_id: str
    service_area: str
    name: str
    municipality_nis: str
    postcode: str
    capacity: int  # as registered
    licensed_places: int = 0  # the licence in force; the registered capacity until declared
    subsidy_tier: SubsidyTier
    min_age_months: int = 0
    max_age_months: int = 36
    organiser_email: str | None = None
    # The organiser running the location: its Kafka principal, whose own inbound topic
    # alone may announce for this location. None: no organiser system may announce.
    organiser_id: str | None = None
    closed: bool = False
    open_free_places: int = 0

    @model_validator(mode="after")
    def _initial_licence(self) -> Location:
        if self.licensed_places == 0:
            self.licensed_places = self.capacity
        return self

    def check_origin(self, service_area: str, municipality_nis: str) -> None:
        """An organiser's event must describe this location as the loket knows it."""
        if service_area != self.service_area:
            raise CapacityRuleError("service_area", "the location belongs to another service area")
        if municipality_nis != self.municipality_nis:
            raise CapacityRuleError("municipality_nis", "not the location's municipality")

    def check_organiser(self, organiser_id: str | None) -> None:
        """An organiser's system may announce only for its own locations."""
        if self.organiser_id is None:
            raise CapacityRuleError("location_id", "the location has no organiser system")
        if organiser_id != self.organiser_id:
            # Organiser ids are directory data (like location names), not personal data.
            raise CapacityRuleError(
                "location_id", f"location of another organiser ({self.organiser_id})")

    def check_open(self) -> None:
        if self.closed:
            raise CapacityConflict("location_id", "the location is closed")

    def declare_capacity(self, licensed_places: int) -> None:
        if licensed_places < 1:
            raise CapacityRuleError("licensed_places", "must be at least 1")
        self.check_open()
        self.licensed_places = licensed_places

    def offer(
        self,
        place_ids: Sequence[str],
        offer: PlaceOffer,
        source: PlaceSource,
        today: date,
        enrolments: Sequence[Enrolment] = (),
        open_places: Sequence[FreePlace] = (),
    ) -> list[FreePlace]:
        """Accept free places, all or none, if the licence has room for them in every
        day-part they cover, on their first day and on every later day an enrolment
        starts."""
        low = self.min_age_months if offer.min_age_months is None else offer.min_age_months
        high = self.max_age_months if offer.max_age_months is None else offer.max_age_months
        self.check_open()
        if not place_ids:
            raise CapacityRuleError("count", "at least one place")
        if not offer.day_parts:
            raise CapacityRuleError("day_parts", "at least one day-part")
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
        self.check_room(offer, len(place_ids), enrolments, open_places)
        self.open_free_places += len(place_ids)
        return [
            FreePlace(
                place_id=place_id,
                location_id=self.location_id,
                available_from=offer.available_from,
                day_parts=schedule(offer.day_parts),
                min_age_months=low,
                max_age_months=high,
                source=source,
            )
            for place_id in place_ids
        ]

    def check_room(
        self,
        offer: PlaceOffer,
        count: int,
        enrolments: Sequence[Enrolment],
        open_places: Sequence[FreePlace],
    ) -> None:
        start = offer.available_from
        days = {start} | {e.start_date for e in enrolments if e.start_date > start}
        wanted = set(offer.day_parts)
        for day in sorted(days):
            for part in occupancy(self.licensed_places, enrolments, open_places, day):
                if part.day_part in wanted and part.enrolled + part.free + count > part.licensed:
                    field = "count" if count > 1 and part.available > 0 else "day_parts"
                    raise CapacityConflict(
                        field,
                        f"{part.day_part} on {day.isoformat()}: {part.enrolled} enrolled and "
                        f"{part.free} free of {part.licensed} licensed places",
                    )

    def close(self) -> None:
        """Close for good: the location's open free places no longer count."""
        if self.closed:
            raise CapacityConflict("location_id", "the location is already closed")
        self.closed = True
        self.open_free_places = 0


def enrolments_to_end_for_move(
    enrolments: Iterable[Enrolment], new: Enrolment
) -> list[Enrolment]:
    """A child holds one enrolment for a period: its other enrolments that still count
    on or after the new start no longer count from that day (no day without a place)."""
    return [
        e.end(max(new.start_date, e.start_date), "moved_to_other_choice")
        for e in enrolments
        if e.enrolment_id != new.enrolment_id and e.active_from(new.start_date)
    ]


def check_declared(
    location: Location, declared: Sequence[Enrolment], others: Iterable[Enrolment]
) -> None:
    """A declaration replaces the location's declared enrolments; its ids must be its own."""
    seen: set[str] = set()
    taken = {e.enrolment_id for e in others}
    for enrolment in declared:
        if enrolment.enrolment_id in seen:
            raise CapacityRuleError("enrolments", f"{enrolment.enrolment_id} is listed twice")
        if enrolment.enrolment_id in taken:
            raise CapacityConflict(
                "enrolments", f"{enrolment.enrolment_id} is already an enrolment of the loket "
                "or of another location")
        if enrolment.ends_on is not None and enrolment.ends_on <= enrolment.start_date:
            raise CapacityRuleError("enrolments", "an end date lies before its start date")
        seen.add(enrolment.enrolment_id)
    location.check_open()


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
