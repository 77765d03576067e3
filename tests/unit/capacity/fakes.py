"""In-memory repositories and unit of work that satisfy capacity's ports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from loketkit.testing import FakeUnitOfWork
from services.capacity.domain.model import (
    Closure,
    Enrolment,
    EnrolmentSource,
    FreePlace,
    Location,
    Offer,
    PlaceStatus,
)


class FakePlaceRepository:
    def __init__(self) -> None:
        self.places: dict[str, FreePlace] = {}

    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None:
        for place in places:
            self.places[place.place_id] = place

    async def exists(self, place_id: str) -> bool:
        return place_id in self.places

    async def known_among(self, place_ids: Iterable[str]) -> set[str]:
        return {each for each in place_ids if each in self.places}

    async def get(self, place_id: str) -> FreePlace | None:
        return self.places.get(place_id)

    async def open_at(self, location_id: str) -> list[FreePlace]:
        return self.open_now(location_id)

    async def open_at_locations(self, location_ids: Iterable[str]) -> list[FreePlace]:
        wanted = set(location_ids)
        return sorted((p for p in self.places.values()
                       if p.location_id in wanted and p.status is PlaceStatus.OPEN),
                      key=lambda p: p.place_id)

    async def set_status(self, place_id: str, status: PlaceStatus) -> None:
        if place_id in self.places:
            self.places[place_id] = self.places[place_id].model_copy(update={"status": status})

    async def cancel_open_at(self, location_id: str) -> list[str]:
        cancelled = [p.place_id for p in self.open_now(location_id)]
        for place_id in cancelled:
            await self.set_status(place_id, PlaceStatus.CANCELLED)
        return cancelled

    def open_now(self, location_id: str) -> list[FreePlace]:
        return sorted((p for p in self.places.values()
                       if p.location_id == location_id and p.status is PlaceStatus.OPEN),
                      key=lambda p: p.place_id)


class FakeLocationRepository:
    """Hands out copies, counting open places the way the SQL query does."""

    def __init__(self, places: FakePlaceRepository) -> None:
        self.locations: dict[str, Location] = {}
        self._places = places

    async def add(self, location: Location, registered_at: datetime) -> bool:
        if location.location_id in self.locations:
            return False
        self.locations[location.location_id] = location.model_copy()
        return True

    async def get(self, location_id: str, for_update: bool = True) -> Location | None:
        stored = self.locations.get(location_id)
        if stored is None:
            return None
        return stored.model_copy(
            update={"open_free_places": len(self._places.open_now(location_id))}
        )

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        found = [await self.get(location_id) for location_id in sorted(set(location_ids))]
        return [location for location in found if location is not None]

    async def save(self, location: Location) -> None:
        stored = self.locations[location.location_id]
        # like the SQL update: only what can change
        stored.closed = location.closed
        stored.licensed_places = location.licensed_places

    async def all(self) -> list[Location]:
        found = [await self.get(location_id) for location_id in self.locations]
        return sorted((loc for loc in found if loc), key=lambda loc: (loc.name, loc.location_id))


class FakeEnrolmentRepository:
    def __init__(self) -> None:
        self.enrolments: dict[str, Enrolment] = {}

    async def get(self, enrolment_id: str) -> Enrolment | None:
        return self.enrolments.get(enrolment_id)

    async def get_many(self, enrolment_ids: Iterable[str]) -> list[Enrolment]:
        return self._sorted(self.enrolments[each] for each in set(enrolment_ids)
                            if each in self.enrolments)

    def _sorted(self, found: Iterable[Enrolment]) -> list[Enrolment]:
        return sorted(found, key=lambda e: (e.start_date, e.enrolment_id))

    async def at_location(self, location_id: str) -> list[Enrolment]:
        return self._sorted(e for e in self.enrolments.values() if e.location_id == location_id)

    async def at_locations(self, location_ids: Iterable[str]) -> list[Enrolment]:
        wanted = set(location_ids)
        return self._sorted(e for e in self.enrolments.values() if e.location_id in wanted)

    async def of_request(self, request_id: str) -> list[Enrolment]:
        return self._sorted(e for e in self.enrolments.values() if e.request_id == request_id)

    async def add(self, enrolment: Enrolment) -> None:
        assert enrolment.enrolment_id not in self.enrolments, "primary key"
        self.enrolments[enrolment.enrolment_id] = enrolment

    async def save(self, enrolment: Enrolment) -> None:
        stored = self.enrolments[enrolment.enrolment_id]
        self.enrolments[enrolment.enrolment_id] = stored.model_copy(
            update={"ends_on": enrolment.ends_on, "end_reason": enrolment.end_reason})

    async def replace_declared(self, location_id: str, enrolments: Iterable[Enrolment]) -> None:
        self.enrolments = {
            key: e for key, e in self.enrolments.items()
            if not (e.location_id == location_id and e.source is EnrolmentSource.DECLARED)
        }
        for enrolment in enrolments:
            await self.add(enrolment)


class FakeOfferRepository:
    def __init__(self) -> None:
        self.offers: dict[str, Offer] = {}

    async def get(self, match_id: str) -> Offer | None:
        return self.offers.get(match_id)

    async def get_many(self, match_ids: Iterable[str]) -> list[Offer]:
        return [self.offers[each] for each in sorted(set(match_ids)) if each in self.offers]

    async def save(self, offer: Offer) -> None:
        self.offers[offer.match_id] = offer

    async def save_all(self, offers: Iterable[Offer]) -> None:
        saved = list(offers)
        assert len({o.match_id for o in saved}) == len(saved), "one row per match id"
        self.offers.update((offer.match_id, offer) for offer in saved)

    async def at_location(self, location_id: str) -> list[Offer]:
        return sorted((o for o in self.offers.values() if o.location_id == location_id),
                      key=lambda o: o.match_id)


class FakeClosureRepository:
    def __init__(self) -> None:
        self.closures: dict[str, Closure] = {}

    async def add(self, closure: Closure) -> None:
        self.closures[closure.closure_id] = closure

    async def get(self, closure_id: str, for_update: bool = True) -> Closure | None:
        return self.closures.get(closure_id)

    async def save(self, closure: Closure) -> None:
        self.closures[closure.closure_id] = closure

    async def at_location(self, location_id: str) -> list[Closure]:
        return sorted((c for c in self.closures.values() if c.location_id == location_id),
                      key=lambda c: (c.registered_at, c.closure_id))

    async def in_area(self, service_area: str | None) -> list[Closure]:
        found = [c for c in self.closures.values()
                 if service_area is None or c.service_area == service_area]
        found.sort(key=lambda c: c.closure_id)
        return sorted(found, key=lambda c: c.registered_at, reverse=True)


class FakeCapacityUnitOfWork(FakeUnitOfWork):
    source = "/loket/capacity"

    def __init__(self) -> None:
        super().__init__()
        self.places = FakePlaceRepository()
        self.locations = FakeLocationRepository(self.places)
        self.enrolments = FakeEnrolmentRepository()
        self.offers = FakeOfferRepository()
        self.closures = FakeClosureRepository()
