"""In-memory facts with the same interface and counting rules as reporting's SQL.

The figure rules are tested once against both (figure_rules.py), so this Python
version cannot drift from the SQL that ships.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TypeVar

from loketkit.testing import FakeUnitOfWork
from services.reporting.domain.facts import (
    ClosureFact,
    Fact,
    FreePlaceFact,
    LocationFact,
    ProposalFact,
    RequestFact,
    WithdrawalFact,
)
from services.reporting.domain.report import CountedFacts

F = TypeVar("F", bound=Fact)


class FakeFactRepository:
    """One fact per natural id, first arrival wins, like ON CONFLICT DO NOTHING."""

    def __init__(self) -> None:
        self.rows: dict[type[Fact], dict[str, Fact]] = {}

    async def add(self, fact: Fact) -> None:
        self.rows.setdefault(type(fact), {}).setdefault(fact.natural_id, fact)

    def all(self, kind: type[F]) -> list[F]:
        return [fact for fact in self.rows.get(kind, {}).values() if isinstance(fact, kind)]

    async def counted_facts(self, municipality_nis: str | None = None) -> list[CountedFacts]:
        requests, places = self.all(RequestFact), self.all(FreePlaceFact)
        proposals, closures = self.all(ProposalFact), self.all(ClosureFact)
        withdrawals = self.all(WithdrawalFact)
        proposed_requests = {p.request_id for p in proposals}
        proposed_places = {p.place_id for p in proposals}
        withdrawn = {w.request_id for w in withdrawals}
        closed = {c.location_id for c in closures}
        figures: dict[str, Iterable[tuple[str, str]]] = {
            "requests_submitted": ((r.service_area, r.municipality_nis) for r in requests),
            "requests_open": ((r.service_area, r.municipality_nis) for r in requests
                              if r.request_id not in proposed_requests
                              and r.request_id not in withdrawn),
            "requests_withdrawn": ((w.service_area, w.municipality_nis) for w in withdrawals
                                   if w.reason != "replaced_after_closure"),
            "crisis_requests": ((r.service_area, self._crisis_municipality(r, proposals))
                                for r in requests if r.urgency == "crisis"),
            "proposals": ((p.service_area, p.location_municipality_nis) for p in proposals),
            "free_places": ((f.service_area, f.municipality_nis) for f in places),
            "free_places_open": ((f.service_area, f.municipality_nis) for f in places
                                 if f.place_id not in proposed_places
                                 and f.location_id not in closed),
            "locations": ((loc.service_area, loc.municipality_nis)
                          for loc in self.all(LocationFact)),
            "closures": ((c.service_area, c.municipality_nis) for c in closures),
        }
        counted = Counter((area, nis, figure) for figure, cells in figures.items()
                          for area, nis in cells)
        return [CountedFacts(area, nis, figure, count)
                for (area, nis, figure), count in counted.items()
                if municipality_nis in (None, nis)]

    @staticmethod
    def _crisis_municipality(request: RequestFact, proposals: list[ProposalFact]) -> str:
        replaced = [p for p in proposals if p.request_id == request.replaces_request_id]
        latest = max(replaced, key=lambda p: p.proposed_at, default=None)
        return latest.location_municipality_nis if latest else request.municipality_nis


class FakeReportingUnitOfWork(FakeUnitOfWork):
    source = "/loket/reporting"

    def __init__(self) -> None:
        super().__init__()
        self.facts = FakeFactRepository()
