"""Allocation rounds: every waiting request of an area against every place free in a
period, at once (Turnhout processes all requests four months before the start date).

`plan_round` turns matching's requests, places and locations into the allocation
module's applicants and seats, under the rules of the decision date: each child
lists the places it fits, at its waiting locations in its own order (full fits
before partial ones, then the earliest start); each location orders children by
its rule set; a location short of its required share of priority-group children
reserves that many of its places for them. It runs child-proposing deferred
acceptance and, on the same input, first-come-first-served, and measures both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.matching.domain.allocation import (
    Applicant,
    LocationQuota,
    RankKey,
    Seat,
    deferred_acceptance,
    first_come_first_served,
    measure,
    quota_results,
    reserve_seats,
)
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import FreePlace, KnownLocation, WaitingRequest, fit_of
from services.matching.domain.ranking import Ranking


class AllocationRound(BaseModel):
    """One round as run: its input's date and seed, its figures, and its assignments,
    published as offers when staff say so."""

    model_config = ConfigDict(frozen=True)

    round_id: str
    service_area: str
    decision_date: date
    period_from: date
    period_to: date
    lottery_seed: int
    rule_sets: list[str]
    report: dict[str, Any]
    run_at: datetime
    published_at: datetime | None = None
    offers_made: int = 0

    def assignments(self) -> list[tuple[str, str]]:
        """(request_id, place_id) pairs of the deferred-acceptance outcome."""
        return [(a["request_id"], a["place_id"]) for a in self.report["assignments"]]


class RoundPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: dict[str, str]  # request_id -> place_id (deferred acceptance)
    report: dict[str, Any]
    rule_sets: list[str]


def plan_round(requests: Sequence[WaitingRequest], places: Sequence[FreePlace],
               locations: Mapping[str, KnownLocation], ranking: Ranking,
               rules: OfferSettings) -> RoundPlan:
    by_location: dict[str, list[FreePlace]] = {}
    for place in sorted(places, key=lambda p: (p.available_from, p.place_id)):
        by_location.setdefault(place.location_id, []).append(place)
    applicants: list[Applicant] = []
    by_id = {request.request_id: request for request in requests}
    rule_sets: set[str] = set()
    for request in requests:
        rule_set = ranking.rule_set(request)
        rule_sets.add(rule_set.id)
        waiting = request.waiting_location_ids()
        fitting: list[str] = []
        for location_id in waiting:
            fits = [(fit != "full", place.available_from, place.place_id)
                    for place in by_location.get(location_id, [])
                    if (fit := fit_of(request, place, rules)) is not None]
            fitting.extend(place_id for _, _, place_id in sorted(fits))
        applicants.append(Applicant(
            request_id=request.request_id, locations=waiting, places=tuple(fitting),
            priority_group=any(f in request.facts for f in rule_set.priority_group),
            registered_at=request.submitted_at))
    keys: dict[tuple[str, str], RankKey] = {}

    def location_order(applicant: Applicant, location_id: str) -> RankKey:
        pair = (applicant.request_id, location_id)
        if pair not in keys:
            keys[pair] = ranking.standing(by_id[applicant.request_id],
                                          locations[location_id]).key
        return keys[pair]

    quotas = {
        location_id: LocationQuota(
            location_id=location_id, required_share=ranking.required_share(location),
            enrolled=location.enrolled, priority_enrolled=location.priority_enrolled)
        for location_id, location in locations.items() if location_id in by_location}
    starts = {place.place_id: (place.available_from, place.place_id) for place in places}
    seats = reserve_seats(
        [Seat(place_id=place.place_id, location_id=place.location_id) for place in places],
        quotas, order=lambda seat: starts[seat.place_id])
    matched = deferred_acceptance(applicants, seats, location_order)
    baseline = first_come_first_served(applicants, seats)
    location_of = {seat.place_id: seat.location_id for seat in seats}
    report = {
        "deferred_acceptance": measure(matched, applicants, seats, location_order,
                                       quotas).as_dict(),
        "first_come_first_served": measure(baseline, applicants, seats, location_order,
                                           quotas).as_dict(),
        "quota": [vars(result) for result in
                  quota_results(matched, applicants, seats, quotas)],
        "reserved_place_ids": sorted(seat.place_id for seat in seats if seat.reserved),
        "assignments": [
            {"request_id": request_id, "place_id": place_id,
             "location_id": location_of[place_id]}
            for request_id, place_id in sorted(matched.items())],
    }
    return RoundPlan(outcome=matched, report=report, rule_sets=sorted(rule_sets))
