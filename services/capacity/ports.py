"""What capacity's handlers need from storage.

The SQL adapters (`adapters/`) and the in-memory fakes of the unit tests both
satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.capacity.domain.model import (
    Closure,
    Enrolment,
    FreePlace,
    Location,
    Offer,
    PlaceStatus,
)


class LocationRepository(Protocol):
    async def add(self, location: Location, registered_at: datetime) -> bool:
        """Store a new location; False (and nothing stored) when its id is taken."""
        ...

    async def get(self, location_id: str, for_update: bool = True) -> Location | None:
        """The location with its count of open places; `for_update` keeps other
        transactions from changing it until this one ends, so offers are serialised."""
        ...

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        """Those of the ids that exist, by id, each as `get` gives it: locked for update
        (in id order, so two transactions lock them in the same order)."""
        ...

    async def save(self, location: Location) -> None:
        """Store whether the location is closed, and its licence."""
        ...

    async def all(self) -> list[Location]:
        """Every location with its count of open places, by name then id."""
        ...


class FreePlaceRepository(Protocol):
    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None:
        """Store new places, in one statement however many."""
        ...

    async def exists(self, place_id: str) -> bool: ...

    async def known_among(self, place_ids: Iterable[str]) -> set[str]:
        """Those of the ids already stored (any location, any status), in one read."""
        ...

    async def get(self, place_id: str) -> FreePlace | None: ...

    async def open_at(self, location_id: str) -> list[FreePlace]:
        """The location's open places, by id."""
        ...

    async def open_at_locations(self, location_ids: Iterable[str]) -> list[FreePlace]:
        """The open places of these locations, by id, in one read."""
        ...

    async def set_status(self, place_id: str, status: PlaceStatus) -> None: ...

    async def cancel_open_at(self, location_id: str) -> list[str]:
        """Cancel the location's open places; returns their ids, sorted."""
        ...


class EnrolmentRepository(Protocol):
    async def get(self, enrolment_id: str) -> Enrolment | None: ...

    async def get_many(self, enrolment_ids: Iterable[str]) -> list[Enrolment]:
        """Those of the ids that exist, in one read."""
        ...

    async def at_location(self, location_id: str) -> list[Enrolment]:
        """Every enrolment of the location, ended ones too, by start date then id."""
        ...

    async def at_locations(self, location_ids: Iterable[str]) -> list[Enrolment]:
        """Every enrolment of these locations, as `at_location` orders them, in one read."""
        ...

    async def of_request(self, request_id: str) -> list[Enrolment]: ...

    async def add(self, enrolment: Enrolment) -> None: ...

    async def save(self, enrolment: Enrolment) -> None:
        """Store how it ended."""
        ...

    async def replace_declared(self, location_id: str, enrolments: Iterable[Enrolment]) -> None:
        """The location's declared enrolments become these (loket enrolments stay)."""
        ...


class OfferRepository(Protocol):
    async def get(self, match_id: str) -> Offer | None: ...

    async def get_many(self, match_ids: Iterable[str]) -> list[Offer]:
        """Those of the ids stored, by match id, in one read (not locked, like `get`)."""
        ...

    async def save(self, offer: Offer) -> None:
        """Insert or replace."""
        ...

    async def save_all(self, offers: Iterable[Offer]) -> None:
        """Insert or replace each (one per match id), in one statement however many."""
        ...

    async def at_location(self, location_id: str) -> list[Offer]:
        """The location's offers, by match id."""
        ...


class ClosureRepository(Protocol):
    async def add(self, closure: Closure) -> None: ...

    async def get(self, closure_id: str, for_update: bool = True) -> Closure | None: ...

    async def save(self, closure: Closure) -> None: ...

    async def at_location(self, location_id: str) -> list[Closure]: ...

    async def in_area(self, service_area: str | None) -> list[Closure]:
        """The closures of a service area (all when None), newest registration first."""
        ...


class CapacityUnitOfWork(UnitOfWork, Protocol):
    # Read-only here, so an adapter may hold a more specific repository.
    @property
    def locations(self) -> LocationRepository: ...

    @property
    def places(self) -> FreePlaceRepository: ...

    @property
    def enrolments(self) -> EnrolmentRepository: ...

    @property
    def offers(self) -> OfferRepository: ...

    @property
    def closures(self) -> ClosureRepository: ...
