"""In-memory repositories and unit of work that satisfy capacity's ports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from loketkit.testing import FakeUnitOfWork
from services.capacity.domain.model import Closure, FreePlace, Location, PlaceStatus


class FakePlaceRepository:
    def __init__(self) -> None:
        self.places: dict[str, FreePlace] = {}

    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None:
        for place in places:
            self.places[place.place_id] = place

    async def exists(self, place_id: str) -> bool:
        return place_id in self.places

    async def cancel_open_at(self, location_id: str) -> list[str]:
        cancelled = sorted(p.place_id for p in self.open_at(location_id))
        for place_id in cancelled:
            self.places[place_id] = self.places[place_id].model_copy(
                update={"status": PlaceStatus.CANCELLED}
            )
        return cancelled

    def open_at(self, location_id: str) -> list[FreePlace]:
        return [p for p in self.places.values()
                if p.location_id == location_id and p.status is PlaceStatus.OPEN]


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
            update={"open_free_places": len(self._places.open_at(location_id))}
        )

    async def save(self, location: Location) -> None:
        stored = self.locations[location.location_id]
        stored.closed = location.closed  # like the SQL update: only what can change

    async def all(self) -> list[Location]:
        found = [await self.get(location_id) for location_id in self.locations]
        return sorted((loc for loc in found if loc), key=lambda loc: (loc.name, loc.location_id))


class FakeClosureRepository:
    def __init__(self) -> None:
        self.closures: list[Closure] = []

    async def add(self, closure: Closure) -> None:
        self.closures.append(closure)


class FakeCapacityUnitOfWork(FakeUnitOfWork):
    source = "/loket/capacity"

    def __init__(self) -> None:
        super().__init__()
        self.places = FakePlaceRepository()
        self.locations = FakeLocationRepository(self.places)
        self.closures = FakeClosureRepository()
