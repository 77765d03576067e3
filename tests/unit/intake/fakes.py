"""In-memory intake repositories and unit of work, satisfying `services.intake.ports`.

Rows are copied in and out, as a database would, so a handler that changes a
request without saving it changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime

from loketkit.testing import FakeUnitOfWork
from services.intake.domain.locations import Location
from services.intake.domain.model import (
    AuditEntry,
    ImportBatch,
    OfferStatus,
    Request,
    Status,
    UrgencyStatus,
)
from services.intake.personal_links import PersonalLink
from services.intake.ports import IntakeUnitOfWork

OPEN = (Status.WAITING, Status.PLACED)


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[str, Request] = {}

    def _copies(self, found: list[Request]) -> list[Request]:
        return [copy.deepcopy(request) for request in found]

    async def add(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def add_many(self, requests: Sequence[Request]) -> None:
        for request in requests:
            await self.add(request)

    async def get(self, request_id: str) -> Request | None:
        found = self.rows.get(request_id)
        return copy.deepcopy(found) if found else None

    async def get_for_update(self, request_id: str) -> Request | None:
        return await self.get(request_id)

    async def get_many_for_update(self, request_ids: Iterable[str]) -> list[Request]:
        return self._copies([self.rows[each] for each in sorted(set(request_ids))
                             if each in self.rows])

    async def save(self, request: Request) -> None:
        self.rows[request.request_id] = copy.deepcopy(request)

    async def save_many(self, requests: Iterable[Request]) -> None:
        for request in requests:
            await self.save(request)

    async def by_match(self, match_id: str) -> Request | None:
        found = [r for r in self.rows.values() if r.offer(match_id)]
        return copy.deepcopy(found[0]) if found else None

    async def with_offers_at(self, location_id: str) -> list[Request]:
        return self._copies([
            request for _, request in sorted(self.rows.items())
            if request.status in OPEN
            and any(offer.location_id == location_id for offer in request.offers)])

    async def closed_out_at(self, location_id: str, closure_id: str) -> list[Request]:
        return self._copies([
            request for _, request in sorted(self.rows.items())
            if (request.status is Status.REPLACED
                or request.needs_loket_for_closure_id == closure_id)
            and any(offer.location_id == location_id for offer in request.offers)])

    async def claim_to_ask(
        self, service_area: str, based_until: datetime, limit: int
    ) -> list[Request]:
        found = [r for r in self.rows.values()
                 if r.service_area == service_area and r.status is Status.WAITING
                 and r.confirmation_asked_at is None and r.confirmation_base() <= based_until]
        found.sort(key=lambda r: (r.confirmation_base(), r.request_id))
        return self._copies(found[:limit])

    async def claim_to_expire(
        self, service_area: str, asked_until: datetime, limit: int
    ) -> list[Request]:
        found = [r for r in self.rows.values()
                 if r.service_area == service_area and r.status is Status.WAITING
                 and r.confirmation_asked_at is not None
                 and r.confirmation_asked_at <= asked_until]
        found.sort(key=lambda r: (r.confirmation_asked_at or asked_until, r.request_id))
        return self._copies(found[:limit])

    async def listing(
        self, *, without_email: bool, has_open_offer: bool, needs_loket: bool, limit: int,
        owner_subject: str | None = None, urgency_status: UrgencyStatus | None = None,
    ) -> list[Request]:
        found = [
            r for r in self.rows.values()
            if r.status in OPEN
            and (owner_subject is None or r.owner_subject == owner_subject)
            and (urgency_status is None or r.urgency_status == urgency_status)
            and (not without_email or r.contact.email is None)
            and (not needs_loket or r.needs_loket_for_closure_id is not None)
            and (not has_open_offer or any(o.status is OfferStatus.OPEN for o in r.offers))
        ]
        found.sort(key=lambda r: (r.submitted_at, r.request_id))
        return self._copies(found[:limit])


class FakeLocations:
    def __init__(self) -> None:
        self.rows: dict[str, Location] = {}

    async def upsert(self, location: Location) -> None:
        known = self.rows.get(location.location_id)
        if known and known.closed:
            location = location.model_copy(update={
                "closed": True, "closure_id": known.closure_id, "closed_from": known.closed_from})
        self.rows[location.location_id] = location

    async def get(self, location_id: str) -> Location | None:
        return self.rows.get(location_id)

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        return [self.rows[each] for each in sorted(set(location_ids)) if each in self.rows]

    async def close(self, location_id: str, closure_id: str, closed_from: date) -> None:
        if location_id in self.rows:
            self.rows[location_id] = self.rows[location_id].model_copy(update={
                "closed": True, "closure_id": closure_id, "closed_from": closed_from})

    async def open_in(self, service_area: str,
                      among: Iterable[str] | None = None) -> list[Location]:
        wanted = None if among is None else set(among)
        return [location for location_id, location in sorted(self.rows.items())
                if location.service_area == service_area and not location.closed
                and (wanted is None or location_id in wanted)]

    async def all(self) -> list[Location]:
        return sorted(self.rows.values(), key=lambda location: (location.name,
                                                                location.location_id))


class FakeAudit:
    def __init__(self) -> None:
        self.rows: list[AuditEntry] = []

    async def add(self, entry: AuditEntry) -> None:
        self.rows.append(entry)

    async def for_request(self, request_id: str) -> list[AuditEntry]:
        return sorted((e for e in self.rows if e.request_id == request_id),
                      key=lambda e: (e.at, e.audit_id))


class FakeImports:
    def __init__(self) -> None:
        self.rows: dict[str, ImportBatch] = {}

    async def add(self, batch: ImportBatch) -> None:
        self.rows[batch.import_id] = batch

    async def get(self, import_id: str) -> ImportBatch | None:
        return self.rows.get(import_id)


class FakePersonalLinks:
    def __init__(self) -> None:
        self.rows: dict[str, PersonalLink] = {}

    async def add(self, link: PersonalLink) -> None:
        self.rows[link.link_id] = link

    async def get(self, link_id: str) -> PersonalLink | None:
        return self.rows.get(link_id)

    async def revoke_all(self, request_id: str, now: datetime) -> int:
        live = [link for link in self.rows.values()
                if link.request_id == request_id and link.revoked_at is None]
        for link in live:
            self.rows[link.link_id] = replace(link, revoked_at=now)
        return len(live)


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.requests = FakeRequests()
        self.locations = FakeLocations()
        self.audit = FakeAudit()
        self.imports = FakeImports()
        self.personal_links = FakePersonalLinks()


def _satisfies_the_port(uow: FakeIntakeUnitOfWork) -> IntakeUnitOfWork:
    return uow  # mypy checks the fake against the Protocol here
