"""Matching's repositories in memory, satisfying the Protocols in services.matching.ports.

One instance is one database: rows stay across units of work, as in PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime

from loketkit.testing import FakeUnitOfWork
from services.matching.domain.model import (
    Addressee,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    age_in_months,
)
from services.matching.domain.ranking import CandidateKey
from services.matching.domain.rounds import AllocationRound
from services.matching.ports import CandidateRead


class FakeRequestRepository:
    def __init__(self) -> None:
        self.rows: dict[str, WaitingRequest] = {}
        self.keys: dict[tuple[str, str], CandidateKey] = {}  # (request, location) -> key

    async def get(self, request_id: str) -> WaitingRequest | None:
        return self.rows.get(request_id)

    async def add(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        assert request.request_id not in self.rows, "a request was added twice"
        await self._store(request, keys)

    async def known_among(self, request_ids: Sequence[str]) -> set[str]:
        return {request_id for request_id in request_ids if request_id in self.rows}

    async def add_many(self, added: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                       ) -> None:
        for request, keys in added:
            await self.add(request, keys)

    async def save(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        assert request.request_id in self.rows, "an unknown request was saved"
        await self._store(request, keys)

    async def _store(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        assert set(keys) == set(request.preferred_location_ids), "a choice has no key"
        self.rows[request.request_id] = request
        for pair in [pair for pair in self.keys if pair[0] == request.request_id]:
            del self.keys[pair]
        await self.rekey(request.request_id, keys)

    async def candidates_for(self, place: FreePlace, *, priority_first: bool, offset: int,
                             limit: int) -> list[WaitingRequest]:
        found = [
            request for request in self.rows.values()
            if request.waits_at(place.location_id)
            and place.min_age_months
            <= age_in_months(request.birth_month, place.available_from)
            <= place.max_age_months
        ]

        def order(request: WaitingRequest) -> tuple[bool, str]:
            key = self.keys[(request.request_id, place.location_id)]
            return (priority_first and not key.priority_group, key.sort_key)

        return sorted(found, key=order)[offset:offset + limit]

    async def candidates_born_at(self, reads: Sequence[CandidateRead]
                                 ) -> list[list[WaitingRequest]]:
        return [self._born(read) for read in reads]

    def _born(self, read: CandidateRead) -> list[WaitingRequest]:
        found = [request for request in self.rows.values()
                 if request.waits_at(read.location_id)
                 and read.born_from <= request.birth_month <= read.born_to]

        def order(request: WaitingRequest) -> tuple[bool, str]:
            key = self.keys[(request.request_id, read.location_id)]
            return (read.priority_first and not key.priority_group, key.sort_key)

        return sorted(found, key=order)[:read.limit]

    async def lock_many(self, request_ids: Sequence[str]) -> dict[str, WaitingRequest]:
        return {request_id: self.rows[request_id] for request_id in sorted(request_ids)
                if request_id in self.rows}

    async def save_many(self, changes: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                        ) -> None:
        for request, keys in changes:
            await self.save(request, keys)

    async def waiting_in_area(self, service_area: str, *, after: str = "",
                              limit: int = 1000) -> list[WaitingRequest]:
        return sorted((r for r in self.rows.values()
                       if r.service_area == service_area and r.request_id > after
                       and r.waiting_location_ids()),
                      key=lambda r: r.request_id)[:limit]

    async def rekey(self, request_id: str, keys: Mapping[str, CandidateKey]) -> None:
        for location_id, key in keys.items():
            self.keys[(request_id, location_id)] = key

    async def choosing(self, location_id: str) -> list[WaitingRequest]:
        return [r for r in self.rows.values() if location_id in r.preferred_location_ids]

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]:
        return dict(Counter(request.status for request in self.rows.values()
                            if request.service_area == service_area))

    async def urgent_without_offer(self, service_area: str) -> list[WaitingRequest]:
        return sorted(
            (request for request in self.rows.values()
             if request.service_area == service_area and request.status is RequestStatus.WAITING
             and request.urgency in ("urgent", "crisis")),
            key=lambda request: (request.submitted_at, request.request_id))


class FakePlaceRepository:
    def __init__(self) -> None:
        self.rows: dict[str, FreePlace] = {}

    async def get(self, place_id: str) -> FreePlace | None:
        return self.rows.get(place_id)

    async def add(self, place: FreePlace) -> None:
        assert place.place_id not in self.rows, "a place was added twice"
        self.rows[place.place_id] = place

    async def add_all(self, places: Sequence[FreePlace]) -> None:
        for place in places:
            await self.add(place)

    async def known_among(self, place_ids: Sequence[str]) -> set[str]:
        return {place_id for place_id in place_ids if place_id in self.rows}

    async def set_status(self, place_id: str, status: PlaceStatus) -> None:
        self.rows[place_id] = self.rows[place_id].model_copy(update={"status": status})

    async def open_at(self, location_ids: Sequence[str]) -> list[FreePlace]:
        return [place for place in self.rows.values()
                if place.status is PlaceStatus.OPEN and place.location_id in location_ids]

    async def open_in_area(self, service_area: str, first: date, last: date
                           ) -> list[FreePlace]:
        return sorted((p for p in self.rows.values()
                       if p.service_area == service_area and p.status is PlaceStatus.OPEN
                       and first <= p.available_from <= last),
                      key=lambda p: (p.available_from, p.place_id))

    async def cancel_at(self, location_id: str) -> None:
        for place in list(self.rows.values()):
            if place.location_id == location_id and place.status in (PlaceStatus.OPEN,
                                                                     PlaceStatus.PROPOSED):
                await self.set_status(place.place_id, PlaceStatus.CANCELLED)

    async def count_by_status(self, service_area: str) -> dict[PlaceStatus, int]:
        return dict(Counter(place.status for place in self.rows.values()
                            if place.service_area == service_area))


class LiveMatchExists(Exception):
    """What PostgreSQL's partial unique index on live matches refuses."""


class FakeMatchRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Match] = {}

    async def add(self, match: Match) -> None:
        if match.live and await self.live_of_place(match.place_id):
            raise LiveMatchExists(f"place {match.place_id} was offered twice")
        assert match.match_id not in self.rows, "a match was added twice"
        self.rows[match.match_id] = match

    async def add_all(self, matches: Sequence[Match]) -> None:
        for match in matches:
            await self.add(match)

    async def of_requests(self, request_ids: Sequence[str], statuses: Set[MatchStatus]
                          ) -> dict[str, list[Match]]:
        return {request_id: await self.of_request(request_id, statuses)
                for request_id in request_ids}

    async def get(self, match_id: str) -> Match | None:
        return self.rows.get(match_id)

    async def of_request(self, request_id: str, statuses: Set[MatchStatus]) -> list[Match]:
        return [m for m in self.rows.values()
                if m.request_id == request_id and m.status in statuses]

    async def live_at(self, location_id: str) -> list[Match]:
        return [m for m in self.rows.values() if m.location_id == location_id and m.live]

    async def live_of_place(self, place_id: str) -> Match | None:
        return next((m for m in self.rows.values() if m.place_id == place_id and m.live), None)

    async def transition(
        self, match_id: str, from_statuses: Set[MatchStatus], to: MatchStatus,
        *, keep_waiting: bool | None = None,
    ) -> Match | None:
        match = self.rows.get(match_id)
        if match is None or match.status not in from_statuses:
            return None
        update: dict[str, object] = {"status": to}
        if keep_waiting is not None:
            update["keep_waiting"] = keep_waiting
        self.rows[match_id] = changed = match.model_copy(update=update)
        return changed

    async def mark_reminded(self, match_id: str, addressee: Addressee, at: datetime) -> bool:
        match = self.rows[match_id]
        field = "family_reminded_at" if addressee == "family" else "organiser_reminded_at"
        if getattr(match, field) is not None:
            return False
        self.rows[match_id] = match.model_copy(update={field: at})
        return True

    async def claim_due(self, now: datetime, limit: int) -> list[Match]:
        def due(m: Match) -> bool:
            family = m.status is MatchStatus.PROPOSED and (
                m.family_answer_due <= now
                or (m.family_reminded_at is None and m.family_reminder_due <= now))
            organiser = (m.live and m.organiser_reminded_at is None
                         and m.organiser_answer_due <= now)
            return family or organiser

        found = sorted((m for m in self.rows.values() if due(m)),
                       key=lambda m: (m.family_answer_due, m.match_id))
        return found[:limit]

    async def organiser_overdue(self, service_area: str, now: datetime) -> list[Match]:
        return sorted((m for m in self.rows.values()
                       if m.service_area == service_area and m.live
                       and m.organiser_answer_due <= now),
                      key=lambda m: (m.organiser_answer_due, m.match_id))


class FakeClosureRepository:
    def __init__(self) -> None:
        self.closed: dict[str, datetime] = {}

    async def is_closed(self, location_id: str) -> bool:
        return location_id in self.closed

    async def closed_among(self, location_ids: Set[str]) -> set[str]:
        return {location_id for location_id in location_ids if location_id in self.closed}

    async def close(self, location_id: str, closed_at: datetime) -> None:
        self.closed[location_id] = closed_at


class FakeLocationRepository:
    def __init__(self) -> None:
        self.rows: dict[str, KnownLocation] = {}
        self.enrolments: dict[str, tuple[str, bool, bool]] = {}  # id -> (loc, group, declared)

    async def register(self, location: KnownLocation) -> None:
        self.rows[location.location_id] = location

    async def get_many(self, location_ids: Sequence[str]) -> dict[str, KnownLocation]:
        found = {}
        for location_id in dict.fromkeys(location_ids):
            at = [e for e in self.enrolments.values() if e[0] == location_id]
            known = self.rows.get(location_id, KnownLocation(location_id=location_id))
            found[location_id] = known.model_copy(update={
                "enrolled": len(at), "priority_enrolled": sum(e[1] for e in at)})
        return found

    async def enrol(self, enrolment_id: str, location_id: str, priority_group: bool) -> None:
        self.enrolments[enrolment_id] = (location_id, priority_group, False)

    async def replace_declared(self, location_id: str,
                               enrolments: Sequence[tuple[str, bool]]) -> None:
        for enrolment_id, found in list(self.enrolments.items()):
            if found[0] == location_id and found[2]:
                del self.enrolments[enrolment_id]
        for enrolment_id, priority_group in enrolments:
            self.enrolments[enrolment_id] = (location_id, priority_group, True)

    async def end_enrolment(self, enrolment_id: str) -> None:
        self.enrolments.pop(enrolment_id, None)


class FakeRankingRepository:
    def __init__(self, requests: FakeRequestRepository) -> None:
        self.bases: dict[str, str] = {}
        self._requests = requests

    async def basis(self, service_area: str) -> str | None:
        return self.bases.get(service_area)

    async def set_basis(self, service_area: str, basis: str, at: datetime) -> None:
        self.bases[service_area] = basis

    async def keyed_under(self, service_area: str, basis: str, at: datetime) -> None:
        self.bases.setdefault(service_area, basis)

    async def areas(self) -> list[str]:
        return sorted({r.service_area for r in self._requests.rows.values()})


class FakeRoundRepository:
    def __init__(self) -> None:
        self.rows: dict[str, AllocationRound] = {}

    async def add(self, found: AllocationRound) -> None:
        self.rows[found.round_id] = found

    async def get(self, round_id: str) -> AllocationRound | None:
        return self.rows.get(round_id)

    async def save(self, found: AllocationRound) -> None:
        self.rows[found.round_id] = found

    async def of_area(self, service_area: str) -> list[AllocationRound]:
        return sorted((r for r in self.rows.values() if r.service_area == service_area),
                      key=lambda r: r.run_at, reverse=True)


class FakeMatchingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.requests = FakeRequestRepository()
        self.places = FakePlaceRepository()
        self.matches = FakeMatchRepository()
        self.closures = FakeClosureRepository()
        self.locations = FakeLocationRepository()
        self.rankings = FakeRankingRepository(self.requests)
        self.rounds = FakeRoundRepository()
