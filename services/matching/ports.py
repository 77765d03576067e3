"""What matching's handlers need from storage: one repository per aggregate.

The SQL adapters (`adapters/repository.py`) and the in-memory fakes of the unit
tests both satisfy these Protocols; mypy checks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import NamedTuple, Protocol

from loketkit.uow import UnitOfWork
from services.matching.domain.model import (
    Addressee,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
)
from services.matching.domain.ranking import CandidateKey
from services.matching.domain.rounds import AllocationRound


class CandidateRead(NamedTuple):
    """One location's first candidates born in these months, `limit` of them, in the
    order `RequestRepository.candidates_for` gives them."""

    location_id: str
    born_from: date
    born_to: date
    priority_first: bool
    limit: int


class RequestRepository(Protocol):
    """Requests as matching knows them, with the candidate index per chosen location."""

    async def get(self, request_id: str) -> WaitingRequest | None: ...

    async def add(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        """Stores a new request with its candidate key at each chosen location."""
        ...

    async def known_among(self, request_ids: Sequence[str]) -> set[str]:
        """Those of the ids that are stored."""
        ...

    async def add_many(self, added: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                       ) -> None:
        """Stores new requests as `add` does each, in order."""
        ...

    async def save(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        """Stores the request's new state and refreshes its candidate index rows
        (one per chosen location: its rank, whether it waits there, its key)."""
        ...

    async def candidates_for(self, place: FreePlace, *, priority_first: bool, offset: int,
                             limit: int) -> list[WaitingRequest]:
        """Requests that wait at the place's location and are of an age the place takes
        on its start date, best first by their candidate key (priority-group children
        first when `priority_first`), one page. The cost of a page must not grow with
        the waiting list."""
        ...

    async def candidates_born_at(self, reads: Sequence[CandidateRead]
                                 ) -> list[list[WaitingRequest]]:
        """For each read, like `candidates_for`'s first page, for children born in its
        months: all in one read (a burst's locations at once)."""
        ...

    async def lock_many(self, request_ids: Sequence[str]) -> dict[str, WaitingRequest]:
        """The requests, read fresh and locked for this transaction (by id, in order)."""
        ...

    async def save_many(self, changes: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                        ) -> None:
        """`save` for each, in a few statements."""
        ...

    async def waiting_in_area(self, service_area: str, *, after: str = "",
                              limit: int = 1000) -> list[WaitingRequest]:
        """Requests of the area that still wait somewhere, by request id, one page."""
        ...

    async def rekey(self, request_id: str, keys: Mapping[str, CandidateKey]) -> None:
        """Replaces the candidate keys of the request at these locations."""
        ...

    async def choosing(self, location_id: str) -> list[WaitingRequest]:
        """Every request that chose the location."""
        ...

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]: ...

    async def urgent_without_offer(self, service_area: str) -> list[WaitingRequest]:
        """Urgent and crisis requests of the area that hold no offer or placement."""
        ...


class PlaceRepository(Protocol):
    async def get(self, place_id: str) -> FreePlace | None: ...

    async def add(self, place: FreePlace) -> None: ...

    async def add_all(self, places: Sequence[FreePlace]) -> None: ...

    async def known_among(self, place_ids: Sequence[str]) -> set[str]:
        """Those of the ids matching has a place for (in any status)."""
        ...

    async def set_status(self, place_id: str, status: PlaceStatus) -> None: ...

    async def open_at(self, location_ids: Sequence[str]) -> list[FreePlace]: ...

    async def open_in_area(self, service_area: str, first: date, last: date
                           ) -> list[FreePlace]:
        """Open places of the area available from a day in [first, last]."""
        ...

    async def cancel_at(self, location_id: str) -> None:
        """Open and proposed places of a closed location are cancelled."""
        ...

    async def count_by_status(self, service_area: str) -> dict[PlaceStatus, int]: ...


class MatchRepository(Protocol):
    async def add(self, match: Match) -> None:
        """Refuses a second live (proposed or accepted) offer of one place
        (in PostgreSQL: a partial unique index)."""
        ...

    async def add_all(self, matches: Sequence[Match]) -> None:
        """`add` for each, in one statement."""
        ...

    async def get(self, match_id: str) -> Match | None: ...

    async def of_request(self, request_id: str, statuses: Set[MatchStatus]) -> list[Match]: ...

    async def of_requests(self, request_ids: Sequence[str], statuses: Set[MatchStatus]
                          ) -> dict[str, list[Match]]:
        """`of_request` for each (in the same order), in one statement."""
        ...

    async def live_at(self, location_id: str) -> list[Match]: ...

    async def live_of_place(self, place_id: str) -> Match | None: ...

    async def transition(
        self, match_id: str, from_statuses: Set[MatchStatus], to: MatchStatus,
        *, keep_waiting: bool | None = None,
    ) -> Match | None:
        """Moves the offer to `to` only if it is in one of `from_statuses` (a conditional
        update); returns the changed offer, or None when it was not in such a status."""
        ...

    async def mark_reminded(self, match_id: str, addressee: Addressee, at: datetime) -> bool:
        """Records a reminder once: False when one was recorded already."""
        ...

    async def claim_due(self, now: datetime, limit: int) -> list[Match]:
        """Offers with a deadline or reminder due at `now` that no one fired yet, locked
        for this transaction (in PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent runs
        take different rows)."""
        ...

    async def organiser_overdue(self, service_area: str, now: datetime) -> list[Match]:
        """Live offers of the area whose organiser deadline has passed, oldest due first."""
        ...


class ClosureRepository(Protocol):
    async def is_closed(self, location_id: str) -> bool: ...

    async def closed_among(self, location_ids: Set[str]) -> set[str]: ...

    async def close(self, location_id: str, closed_at: datetime) -> None: ...


class LocationRepository(Protocol):
    async def register(self, location: KnownLocation) -> None: ...

    async def get_many(self, location_ids: Sequence[str]) -> dict[str, KnownLocation]:
        """Every asked location, with its children counted (an unknown one: basic tier)."""
        ...

    async def enrol(self, enrolment_id: str, location_id: str, priority_group: bool) -> None: ...

    async def replace_declared(self, location_id: str,
                               enrolments: Sequence[tuple[str, bool]]) -> None:
        """The organiser's declared list replaces its previous one."""
        ...

    async def end_enrolment(self, enrolment_id: str) -> None: ...


class RankingRepository(Protocol):
    async def basis(self, service_area: str) -> str | None: ...

    async def set_basis(self, service_area: str, basis: str, at: datetime) -> None: ...

    async def keyed_under(self, service_area: str, basis: str, at: datetime) -> None:
        """Keys are being computed under `basis`: recorded if the area has none recorded
        yet (its first requests), so the rekey job leaves them be."""

    async def areas(self) -> list[str]: ...


class RoundRepository(Protocol):
    async def add(self, found: AllocationRound) -> None: ...

    async def get(self, round_id: str) -> AllocationRound | None: ...

    async def save(self, found: AllocationRound) -> None: ...

    async def of_area(self, service_area: str) -> list[AllocationRound]: ...


class MatchingUnitOfWork(UnitOfWork, Protocol):
    # Read-only members, so an implementation may hold a more specific repository.
    @property
    def requests(self) -> RequestRepository: ...

    @property
    def places(self) -> PlaceRepository: ...

    @property
    def matches(self) -> MatchRepository: ...

    @property
    def closures(self) -> ClosureRepository: ...

    @property
    def locations(self) -> LocationRepository: ...

    @property
    def rankings(self) -> RankingRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...
