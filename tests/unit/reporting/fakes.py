"""In-memory facts with the same interface and counting rules as reporting's SQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.testing import FakeUnitOfWork
from services.reporting.domain.report import CountedFacts


class FakeFactRepository:
    """One fact per natural id, first arrival wins, like ON CONFLICT DO NOTHING."""

    def __init__(self) -> None:
        self.requests: dict[str, RequestSubmitted] = {}
        self.withdrawals: dict[str, RequestWithdrawn] = {}
        self.proposals: dict[str, MatchProposed] = {}
        self.free_places: dict[str, PlaceFreed] = {}
        self.locations: dict[str, LocationRegistered] = {}
        self.closures: dict[str, CrisisClosure] = {}

    async def add_request(self, data: RequestSubmitted) -> None:
        self.requests.setdefault(data.request_id, data)

    async def add_withdrawal(self, data: RequestWithdrawn) -> None:
        self.withdrawals.setdefault(data.request_id, data)

    async def add_proposal(self, data: MatchProposed) -> None:
        self.proposals.setdefault(data.match_id, data)

    async def add_free_place(self, data: PlaceFreed) -> None:
        self.free_places.setdefault(data.place_id, data)

    async def add_location(self, data: LocationRegistered) -> None:
        self.locations.setdefault(data.location_id, data)

    async def add_closure(self, data: CrisisClosure) -> None:
        self.closures.setdefault(data.closure_id, data)

    async def counted_facts(self, municipality_nis: str | None = None) -> list[CountedFacts]:
        proposed_requests = {p.request_id for p in self.proposals.values()}
        proposed_places = {p.place_id for p in self.proposals.values()}
        closed = {c.location_id for c in self.closures.values()}
        requests = list(self.requests.values())
        places = list(self.free_places.values())
        figures: dict[str, Iterable[tuple[str, str]]] = {
            "requests_submitted": ((r.service_area, r.municipality_nis) for r in requests),
            "requests_open": ((r.service_area, r.municipality_nis) for r in requests
                              if r.request_id not in proposed_requests
                              and r.request_id not in self.withdrawals),
            "requests_withdrawn": ((w.service_area, w.municipality_nis)
                                   for w in self.withdrawals.values()
                                   if w.reason != "replaced_after_closure"),
            "crisis_requests": ((r.service_area, self._crisis_municipality(r))
                                for r in requests if r.urgency == "crisis"),
            "proposals": ((p.service_area, p.location_municipality_nis)
                          for p in self.proposals.values()),
            "free_places": ((f.service_area, f.municipality_nis) for f in places),
            "free_places_open": ((f.service_area, f.municipality_nis) for f in places
                                 if f.place_id not in proposed_places
                                 and f.location_id not in closed),
            "locations": ((loc.service_area, loc.municipality_nis)
                          for loc in self.locations.values()),
            "closures": ((c.service_area, c.municipality_nis) for c in self.closures.values()),
        }
        counted = Counter((area, nis, figure) for figure, cells in figures.items()
                          for area, nis in cells)
        return [CountedFacts(area, nis, figure, count)
                for (area, nis, figure), count in counted.items()
                if municipality_nis in (None, nis)]

    def _crisis_municipality(self, request: RequestSubmitted) -> str:
        replaced = [p for p in self.proposals.values()
                    if p.request_id == request.replaces_request_id]
        latest = max(replaced, key=lambda p: p.proposed_at, default=None)
        return latest.location_municipality_nis if latest else request.municipality_nis


class FakeReportingUnitOfWork(FakeUnitOfWork):
    source = "/loket/reporting"

    def __init__(self) -> None:
        super().__init__()
        self.facts = FakeFactRepository()
