"""In-memory intake repositories and unit of work, satisfying `services.intake.ports`.

Rows are copied in and out, as a database would, so a handler that changes a
request without saving it changes nothing.
"""

from __future__ import annotations

import copy

from loketkit.testing import FakeUnitOfWork
from services.intake.domain.locations import Location
from services.intake.domain.model import Request, Status
from services.intake.ports import IntakeUnitOfWork


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[str, Request] = {}

    async def add(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def get(self, request_id: str) -> Request | None:
        found = self.rows.get(request_id)
        return copy.deepcopy(found) if found else None

    async def get_for_update(self, request_id: str) -> Request | None:
        return await self.get(request_id)

    async def save(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def proposed_at(self, location_id: str) -> list[Request]:
        return [copy.deepcopy(request) for _, request in sorted(self.rows.items())
                if request.status is Status.PROPOSED
                and request.proposed_location_id == location_id]


class FakeLocations:
    def __init__(self) -> None:
        self.rows: dict[str, Location] = {}

    async def upsert(self, location: Location) -> None:
        self.rows[location.location_id] = location

    async def close(self, location_id: str) -> None:
        if location_id in self.rows:
            self.rows[location_id] = self.rows[location_id].model_copy(update={"closed": True})

    async def open_in(self, service_area: str) -> list[Location]:
        return [location for _, location in sorted(self.rows.items())
                if location.service_area == service_area and not location.closed]

    async def all(self) -> list[Location]:
        return sorted(self.rows.values(), key=lambda location: (location.name,
                                                                location.location_id))


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.requests = FakeRequests()
        self.locations = FakeLocations()


def _satisfies_the_port(uow: FakeIntakeUnitOfWork) -> IntakeUnitOfWork:
    return uow  # mypy checks the fake against the Protocol here
