"""What intake's handlers need from storage and from the rest of the world.

The SQL adapters (`adapters/`) and the in-memory fakes of the unit tests both
satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.intake.domain.locations import Location
from services.intake.domain.model import (
    AuditEntry,
    Child,
    ImportBatch,
    Request,
    UrgencyStatus,
)
from services.intake.personal_links import PersonalLink

# Turns a child into its pseudonymous reference (a keyed HMAC; the key stays in intake).
ChildRef = Callable[[Child], str]


class RequestRepository(Protocol):
    """Requests with their offers (one aggregate): `save` writes both."""

    async def add(self, request: Request) -> None: ...

    async def add_many(self, requests: Sequence[Request]) -> None:
        """What `add` does to each, in a statement per table however many."""
        ...

    async def get(self, request_id: str) -> Request | None: ...

    async def get_for_update(self, request_id: str) -> Request | None:
        """Like `get`, and no other transaction changes the request until this one ends."""
        ...

    async def get_many_for_update(self, request_ids: Iterable[str]) -> list[Request]:
        """Those of the ids that exist, by id, each as `get_for_update` gives it: locked
        (in id order, so two transactions lock them in the same order), in a few reads."""
        ...

    async def save(self, request: Request) -> None: ...

    async def save_many(self, requests: Iterable[Request]) -> None:
        """What `save` does to each, in a few statements however many."""
        ...

    async def by_match(self, match_id: str) -> Request | None:
        """The request an offer was made to."""
        ...

    async def with_offers_at(self, location_id: str) -> list[Request]:
        """Open requests holding any offer (or placement) at the location, locked like
        `get_for_update`, by id."""
        ...

    async def closed_out_at(self, location_id: str, closure_id: str) -> list[Request]:
        """Requests holding any offer (or placement) at the location that a closure may
        have ended: replaced after a closure, or left on the loket's list by closure
        `closure_id`; by id, not locked (a read: the caller checks which offer)."""
        ...

    async def claim_to_ask(
        self, service_area: str, based_until: datetime, limit: int
    ) -> list[Request]:
        """Waiting requests not asked to confirm whose last confirmation (or registration)
        is at or before `based_until`, oldest first, locked and skipping rows another
        transaction holds (FOR UPDATE SKIP LOCKED)."""
        ...

    async def claim_to_expire(
        self, service_area: str, asked_until: datetime, limit: int
    ) -> list[Request]:
        """Waiting requests asked to confirm at or before `asked_until`, oldest question
        first, locked and skipping rows another transaction holds."""
        ...

    async def listing(
        self, *, without_email: bool, has_open_offer: bool, needs_loket: bool, limit: int,
        owner_subject: str | None = None, urgency_status: UrgencyStatus | None = None,
    ) -> list[Request]:
        """Open requests for the loket's worklists (or one parent's), by registration date."""
        ...


class LocationRepository(Protocol):
    async def upsert(self, location: Location) -> None:
        """Add or update a location; a closed one stays closed."""
        ...

    async def get(self, location_id: str) -> Location | None: ...

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        """Those of the ids that exist, by id, in one read."""
        ...

    async def close(self, location_id: str, closure_id: str, closed_from: date) -> None: ...

    async def open_in(self, service_area: str,
                      among: Iterable[str] | None = None) -> list[Location]:
        """The area's locations that are not closed, by id; of `among` only, if given."""
        ...

    async def all(self) -> list[Location]:
        """Every known location, by name."""
        ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def for_request(self, request_id: str) -> list[AuditEntry]:
        """Oldest first."""
        ...


class ImportRepository(Protocol):
    async def add(self, batch: ImportBatch) -> None: ...

    async def get(self, import_id: str) -> ImportBatch | None: ...


class PersonalLinkRepository(Protocol):
    async def add(self, link: PersonalLink) -> None: ...

    async def get(self, link_id: str) -> PersonalLink | None: ...

    async def revoke_all(self, request_id: str, now: datetime) -> int:
        """Revoke every live link of a request; how many there were."""
        ...


class IntakeUnitOfWork(UnitOfWork, Protocol):
    # Read-only here, so an adapter may hold a more specific repository.
    @property
    def requests(self) -> RequestRepository: ...

    @property
    def locations(self) -> LocationRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def imports(self) -> ImportRepository: ...

    @property
    def personal_links(self) -> PersonalLinkRepository: ...
