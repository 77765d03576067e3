"""Reads for the pages, over the unit of work and without side effects: one location as
its organiser keeps it, and a closure followed up child by child (as far as capacity
knows the children: pseudonymous, by enrolment and request)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from contracts.schedule import DayPart
from loketkit.errors import NotFound
from services.capacity.domain.model import (
    Closure,
    ClosureStatus,
    DayPartOccupancy,
    Enrolment,
    FreePlace,
    Location,
    Offer,
    OfferStatus,
    occupancy,
)
from services.capacity.ports import CapacityUnitOfWork
from services.capacity.views import MISSING_LOCATION


@dataclass(frozen=True)
class LocationBoard:
    """A location on a day: occupancy per day-part, the children enrolled that day,
    its open free places and every offer at it."""

    location: Location
    on: date
    day_parts: list[DayPartOccupancy]
    enrolled: list[Enrolment]
    open_places: list[FreePlace]
    offers: list[Offer]

    @property
    def waiting_for_organiser(self) -> list[Offer]:
        """Offers the family accepted: the organiser has the final say."""
        return [offer for offer in self.offers if offer.status is OfferStatus.ACCEPTED]

    @property
    def offered_place_ids(self) -> set[str]:
        return {offer.place_id for offer in self.offers if offer.status.live}


async def location_board(uow: CapacityUnitOfWork, location_id: str, on: date) -> LocationBoard:
    async with uow:
        location = await uow.locations.get(location_id, for_update=False)
        if location is None:
            raise NotFound("location_id", MISSING_LOCATION)
        enrolments = await uow.enrolments.at_location(location_id)
        places = await uow.places.open_at(location_id)
        offers = await uow.offers.at_location(location_id)
    return LocationBoard(
        location=location, on=on,
        day_parts=occupancy(location.licensed_places, enrolments, places, on),
        enrolled=[e for e in enrolments if e.active_on(on)], open_places=places, offers=offers,
    )


@dataclass(frozen=True)
class AffectedChild:
    """A child a closure reaches: enrolled at the location from its date, or holding a
    live offer there. Followed by its request as far as capacity knows it: a later
    enrolment elsewhere (re-placed), else a live offer elsewhere. `request_id` is None
    for a child the organiser admitted outside the loket: capacity cannot follow it."""

    reference: str  # the enrolment id, or the match id of the offer at the location
    request_id: str | None
    day_parts: tuple[DayPart, ...]
    enrolled: bool  # False: it held an offer at the closing location
    placed: Enrolment | None = None
    offer: Offer | None = None

    @property
    def state(self) -> str:
        if self.request_id is None:
            return "unknown"
        if self.placed is not None:
            return "placed"
        return "offered" if self.offer is not None else "waiting"


@dataclass(frozen=True)
class FollowUp:
    closure: Closure
    children: list[AffectedChild]
    locations: dict[str, Location]  # the area's, by id

    @property
    def placed(self) -> int:
        return sum(child.state == "placed" for child in self.children)

    def name_of(self, location_id: str) -> str:
        found = self.locations.get(location_id)
        return found.name if found else location_id


async def closure_follow_up(uow: CapacityUnitOfWork, closure: Closure) -> FollowUp:
    """Before release, the children enrolled at the location from its date and the live
    offers there (nothing has changed yet); after it, the ones recorded at release."""
    async with uow:
        area = {loc.location_id: loc for loc in await uow.locations.all()
                if loc.service_area == closure.service_area}
        if closure.status is ClosureStatus.RELEASED:
            children = [AffectedChild(a.enrolment_id, a.request_id, a.day_parts, True)
                        for a in closure.affected_enrolments]
            for affected in closure.open_offers:
                offer = await uow.offers.get(affected.match_id)
                children.append(AffectedChild(affected.match_id, affected.request_id,
                                              offer.default_day_parts() if offer else (),
                                              False))
        else:
            children = [AffectedChild(e.enrolment_id, e.request_id, e.day_parts, True)
                        for e in await uow.enrolments.at_location(closure.location_id)
                        if e.active_from(closure.effective_from)]
            children += [AffectedChild(o.match_id, o.request_id, o.default_day_parts(), False)
                         for o in await uow.offers.at_location(closure.location_id)
                         if o.status.live]
        live: dict[str, Offer] = {}
        for location_id in area:
            if location_id != closure.location_id:
                for offer in await uow.offers.at_location(location_id):
                    if offer.status.live:
                        live.setdefault(offer.request_id, offer)
        followed = []
        for child in children:
            placed = None
            if child.request_id is not None:
                placed = next((e for e in await uow.enrolments.of_request(child.request_id)
                               if e.location_id != closure.location_id
                               and e.active_from(closure.effective_from)), None)
            offer = live.get(child.request_id) if child.request_id and not placed else None
            followed.append(replace(child, placed=placed, offer=offer))
    return FollowUp(closure, followed, area)
