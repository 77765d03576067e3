"""In-memory facts with the same interface and counting rules as reporting's SQL.

The figure rules are tested once against both (figure_rules.py), so this Python
version cannot drift from the SQL that ships.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar

from loketkit.testing import FakeUnitOfWork
from services.reporting.domain.facts import (
    AcceptanceFact,
    CancellationFact,
    CapacityFact,
    ClosureFact,
    DeclarationFact,
    DeclaredEnrolmentFact,
    DeclineFact,
    EnrolmentEndFact,
    Fact,
    FreePlaceFact,
    LocationFact,
    OfferExpiryFact,
    PlacementFact,
    PlaceWithdrawalFact,
    ProposalFact,
    RefusalFact,
    RequestExpiryFact,
    RequestFact,
    WithdrawalFact,
)
from services.reporting.domain.model import (
    MEASURES,
    REFUSAL_REASONS,
    Measure,
    Scope,
    WaitingTimes,
    days_between,
    percentile,
)
from services.reporting.domain.report import CountedFacts

F = TypeVar("F", bound=Fact)
Cells = Iterable[tuple[str, str]]


class FakeFactRepository:
    """One fact per natural id, first arrival wins, like ON CONFLICT DO NOTHING."""

    def __init__(self) -> None:
        self.rows: dict[type[Fact], dict[tuple[str, ...], Fact]] = {}

    async def add(self, fact: Fact) -> None:
        self.rows.setdefault(type(fact), {}).setdefault(fact.natural_id, fact)

    def all(self, kind: type[F]) -> list[F]:
        return [fact for fact in self.rows.get(kind, {}).values() if isinstance(fact, kind)]

    async def counted_facts(
        self, on: date, municipality_nis: str | None = None
    ) -> list[CountedFacts]:
        requests, places = self.all(RequestFact), self.all(FreePlaceFact)
        proposals, closures = self.all(ProposalFact), self.all(ClosureFact)
        withdrawals, placements = self.all(WithdrawalFact), self.all(PlacementFact)
        refusals = self.all(RefusalFact)
        ended = ({d.match_id for d in self.all(DeclineFact)}
                 | {r.match_id for r in refusals}
                 | {e.match_id for e in self.all(OfferExpiryFact)}
                 | {c.match_id for c in self.all(CancellationFact)}
                 | {p.match_id for p in placements})
        live = [p for p in proposals if p.match_id not in ended]
        not_open_requests = ({p.request_id for p in live}
                             | {w.request_id for w in withdrawals}
                             | {e.request_id for e in self.all(RequestExpiryFact)}
                             | {p.request_id for p in placements})
        not_open_places = ({p.place_id for p in live} | {p.place_id for p in placements}
                           | {w.place_id for w in self.all(PlaceWithdrawalFact)})
        closed = {c.location_id for c in closures}
        figures: dict[str, Cells] = {
            "requests_submitted": ((r.service_area, r.municipality_nis) for r in requests),
            "requests_open": ((r.service_area, r.municipality_nis) for r in requests
                              if r.request_id not in not_open_requests),
            "requests_withdrawn": ((w.service_area, w.municipality_nis) for w in withdrawals
                                   if w.reason != "replaced_after_closure"),
            "requests_expired": ((e.service_area, e.municipality_nis)
                                 for e in self.all(RequestExpiryFact)),
            "crisis_requests": ((r.service_area, self._crisis_municipality(r, proposals))
                                for r in requests if r.urgency == "crisis"),
            "proposals": ((p.service_area, p.location_municipality_nis) for p in proposals),
            "offers_accepted": ((a.service_area, self._location_municipality(a))
                                for a in self.all(AcceptanceFact)),
            "declined_by_family": ((d.service_area, self._location_municipality(d))
                                   for d in self.all(DeclineFact)),
            **{f"refused_{reason}": [(r.service_area, r.municipality_nis) for r in refusals
                                     if r.reason == reason] for reason in REFUSAL_REASONS},
            "offers_expired": ((e.service_area, e.location_municipality_nis)
                               for e in self.all(OfferExpiryFact)),
            "offers_cancelled": ((c.service_area, c.location_municipality_nis)
                                 for c in self.all(CancellationFact)),
            "placed": ((p.service_area, p.municipality_nis) for p in placements),
            "placed_family": self._placed_family(placements),
            "enrolments_ended": ((e.service_area, e.municipality_nis)
                                 for e in self.all(EnrolmentEndFact)),
            "free_places": ((f.service_area, f.municipality_nis) for f in places),
            "free_places_open": ((f.service_area, f.municipality_nis) for f in places
                                 if f.place_id not in not_open_places
                                 and f.location_id not in closed),
            "places_withdrawn": ((w.service_area, w.municipality_nis)
                                 for w in self.all(PlaceWithdrawalFact)),
            "locations": ((loc.service_area, loc.municipality_nis)
                          for loc in self.all(LocationFact)),
            "closures": ((c.service_area, c.municipality_nis) for c in closures),
        }
        counted = Counter((area, nis, figure) for figure, cells in figures.items()
                          for area, nis in cells)
        counted.update(self._enrolled(on))
        counted.update(self._licensed(on))
        return [CountedFacts(area, nis, figure, count)
                for (area, nis, figure), count in counted.items()
                if municipality_nis in (None, nis) and count]

    def _location_municipality(self, answer: AcceptanceFact | DeclineFact) -> str:
        proposal = self.rows.get(ProposalFact, {}).get((answer.match_id,))
        location = self.rows.get(LocationFact, {}).get((answer.location_id,))
        if isinstance(proposal, ProposalFact):
            return proposal.location_municipality_nis
        if isinstance(location, LocationFact):
            return location.municipality_nis
        return answer.municipality_nis

    def _placed_family(self, placements: list[PlacementFact]) -> Cells:
        for placement in placements:
            request = self.rows.get(RequestFact, {}).get((placement.request_id,))
            proposal = self.rows.get(ProposalFact, {}).get((placement.match_id,))
            if isinstance(request, RequestFact):
                yield placement.service_area, request.municipality_nis
            elif isinstance(proposal, ProposalFact):
                yield placement.service_area, proposal.request_municipality_nis

    def _ended_by(self, on: date) -> set[tuple[str, str]]:
        return {(e.location_id, e.enrolment_id) for e in self.all(EnrolmentEndFact)
                if e.ended_on <= on}

    def _enrolled(self, on: date) -> Counter[tuple[str, str, str]]:
        ended = self._ended_by(on)
        placements = self.all(PlacementFact)
        placed = {(p.location_id, p.enrolment_id) for p in placements}
        latest: dict[str, datetime] = {}
        for declaration in self.all(DeclarationFact):
            known = latest.get(declaration.location_id)
            if known is None or declaration.declared_at > known:
                latest[declaration.location_id] = declaration.declared_at
        active: list[tuple[str, str, list[str]]] = [
            (p.service_area, p.municipality_nis, p.day_parts) for p in placements
            if p.start_date <= on and (p.location_id, p.enrolment_id) not in ended]
        active += [
            (d.service_area, d.municipality_nis, d.day_parts)
            for d in self.all(DeclaredEnrolmentFact)
            if latest.get(d.location_id) == d.declared_at and d.start_date <= on
            and (d.end_date is None or d.end_date >= on)
            and (d.location_id, d.enrolment_id) not in ended | placed]
        return Counter((area, nis, f"enrolled_{part}") for area, nis, parts in active
                       for part in parts)

    def _licensed(self, on: date) -> Counter[tuple[str, str, str]]:
        closed = {c.location_id for c in self.all(ClosureFact) if c.effective_from <= on}
        latest: dict[str, CapacityFact] = {}
        for declared in self.all(CapacityFact):
            known = latest.get(declared.location_id)
            if known is None or declared.declared_at > known.declared_at:
                latest[declared.location_id] = declared
        places: Counter[tuple[str, str, str]] = Counter()
        registered = {loc.location_id: loc for loc in self.all(LocationFact)}
        for location_id in registered.keys() | latest.keys():
            if location_id in closed:
                continue
            location, last = registered.get(location_id), latest.get(location_id)
            if location is not None:
                amount = last.licensed_places if last else location.capacity
                places[(location.service_area, location.municipality_nis,
                        "licensed_places")] += amount
            elif last is not None:
                places[(last.service_area, last.municipality_nis,
                        "licensed_places")] += last.licensed_places
        return places

    async def waiting_times(self, municipality_nis: str | None = None) -> list[WaitingTimes]:
        requests = {r.request_id: r for r in self.all(RequestFact)
                    if r.urgency != "crisis" and municipality_nis in (None, r.municipality_nis)}
        firsts: dict[Measure, list[tuple[str, datetime]]] = {
            "first_offer": [(p.request_id, p.proposed_at) for p in self.all(ProposalFact)],
            "placement": [(p.request_id, p.confirmed_at) for p in self.all(PlacementFact)],
        }
        rows: list[WaitingTimes] = []
        for measure in MEASURES:
            first: dict[str, float] = {}
            for request_id, moment in firsts[measure]:
                if request_id in requests:
                    seconds = moment.timestamp()
                    first[request_id] = min(first.get(request_id, seconds), seconds)
            waited = [(requests[rid].service_area, requests[rid].municipality_nis,
                       days_between(requests[rid].submitted_at.timestamp(), at))
                      for rid, at in first.items()]
            groups: dict[tuple[Scope, str], list[float]] = {}
            for area, nis, days in waited:
                groups.setdefault(("municipality", nis), []).append(days)
                groups.setdefault(("service_area", area), []).append(days)
                groups.setdefault(("total", ""), []).append(days)
            rows += [WaitingTimes(scope, key, measure, percentile(days, 0.5),
                                  percentile(days, 0.9), len(days))
                     for (scope, key), days in groups.items()]
        return rows

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
