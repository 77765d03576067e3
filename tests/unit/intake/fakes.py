"""In-memory intake repositories with the interface of the SQL ones."""

from __future__ import annotations

import copy

from contracts.events import LocationRegistered
from loketkit.testing import FakeUnitOfWork
from services.intake.domain.model import Request, Status


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[str, Request] = {}

    async def add(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def get(self, request_id: str) -> Request | None:
        found = self.rows.get(request_id)
        return copy.deepcopy(found) if found else None

    get_for_update = get

    async def save(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def proposed_at(self, location_id: str) -> list[Request]:
        return [copy.deepcopy(r) for r in self.rows.values()
                if r.status is Status.PROPOSED and r.proposed_location_id == location_id]


class FakeLocations:
    def __init__(self) -> None:
        self.open: dict[str, str] = {}  # location id -> service area
        self.closed: set[str] = set()

    async def upsert(self, location: LocationRegistered) -> None:
        self.open[location.location_id] = location.service_area

    async def close(self, location_id: str) -> None:
        self.closed.add(location_id)

    async def open_ids(self, service_area: str) -> list[str]:
        return sorted(loc for loc, area in self.open.items()
                      if area == service_area and loc not in self.closed)


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.requests = FakeRequests()
        self.locations = FakeLocations()
