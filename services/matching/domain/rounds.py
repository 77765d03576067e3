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

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from contracts.events.matching import Fit
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
from services.matching.domain.allocation import (
    Ranking as LocationOrder,
)
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import (
    FreePlace,
    KnownLocation,
    WaitingRequest,
    age_and_dates_fit,
    schedule_fit,
)
from services.matching.domain.ranking import Ranking

MAX_RESERVE_MOVES = 5


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
    schedules: dict[tuple[object, ...], Fit | None] = {}

    def fit(request: WaitingRequest, place: FreePlace) -> Fit | None:
        # Half a million (child, place) pairs in a large round: the day-parts check
        # depends on the two patterns alone, so it is computed once per pair of patterns.
        if not age_and_dates_fit(request, place, rules):
            return None
        pattern = (request.day_parts, request.accepts_partial_fit, place.day_parts)
        if pattern not in schedules:
            schedules[pattern] = schedule_fit(request, place, rules)
        return schedules[pattern]

    for request in requests:
        rule_set = ranking.rule_set(request)
        rule_sets.add(rule_set.id)
        waiting = request.waiting_location_ids()
        fitting: list[str] = []
        for location_id in waiting:
            fits = [(found != "full", place.available_from, place.place_id)
                    for place in by_location.get(location_id, [])
                    if (found := fit(request, place)) is not None]
            fitting.extend(place_id for _, _, place_id in sorted(fits))
        applicants.append(Applicant(
            request_id=request.request_id, locations=waiting, places=tuple(fitting),
            priority_group=any(f in request.facts for f in rule_set.priority_group),
            registered_at=request.submitted_at))
    keys: dict[tuple[str, str], RankKey] = {}

    def location_order(applicant: Applicant, location_id: str) -> RankKey:
        pair = (applicant.request_id, location_id)
        if pair not in keys:
            keys[pair] = ranking.key(by_id[applicant.request_id], locations[location_id])
        return keys[pair]

    quotas = {
        location_id: LocationQuota(
            location_id=location_id, required_share=ranking.required_share(location),
            enrolled=location.enrolled, priority_enrolled=location.priority_enrolled)
        for location_id, location in locations.items() if location_id in by_location}
    seats, matched = allocate(applicants, places, quotas, location_order)
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


def allocate(applicants: Sequence[Applicant], places: Sequence[FreePlace],
             quotas: Mapping[str, LocationQuota], location_order: LocationOrder
             ) -> tuple[list[Seat], dict[str, str]]:
    """Deferred acceptance with each location's quota shortfall as reserved seats.

    Which of a location's places carry the reserve matters when places differ (start
    date, ages, day-parts): first those that the most priority-group children fit,
    then the earliest. Where a reserved seat still went to a child outside the priority
    group while a priority-group child who wanted the location lost an unreserved seat
    to such a child, the reserve moves to that seat and the round runs again (a few
    times at most); every run is stable for its own seats."""
    wanted = Counter(place_id for applicant in applicants if applicant.priority_group
                     for place_id in applicant.places)
    starts = {place.place_id: (place.available_from, place.place_id) for place in places}
    seats = reserve_seats(
        [Seat(place_id=place.place_id, location_id=place.location_id) for place in places],
        quotas, order=lambda seat: (-wanted[seat.place_id], starts[seat.place_id]))
    matched = deferred_acceptance(applicants, seats, location_order)
    for _ in range(MAX_RESERVE_MOVES):
        moved = moved_reserves(seats, matched, applicants)
        if moved == seats:
            break
        seats = moved
        matched = deferred_acceptance(applicants, seats, location_order)
    return seats, matched


def moved_reserves(seats: list[Seat], matched: Mapping[str, str],
                   applicants: Sequence[Applicant]) -> list[Seat]:
    """The seats with, per location, reserves moved from seats that went to children
    outside the priority group (or stayed empty) to seats a left-out priority-group
    child fits that went to such children."""
    group = {a.request_id: a.priority_group for a in applicants}
    holder = {place_id: request_id for request_id, place_id in matched.items()}
    location_of = {seat.place_id: seat.location_id for seat in seats}

    def outside(place_id: str) -> bool:
        return place_id not in holder or not group[holder[place_id]]

    wasted: dict[str, list[str]] = {}
    for seat in seats:
        if seat.reserved and outside(seat.place_id):
            wasted.setdefault(seat.location_id, []).append(seat.place_id)
    targets: dict[str, list[str]] = {}
    reserved = {seat.place_id for seat in seats if seat.reserved}
    for applicant in applicants:
        if not applicant.priority_group:
            continue
        own = matched.get(applicant.request_id)
        own_rank = (applicant.locations.index(location_of[own]) if own
                    else len(applicant.locations))
        for place_id in applicant.places:
            location_id = location_of.get(place_id)
            if (location_id in wasted and place_id not in reserved and outside(place_id)
                    and place_id in holder
                    and applicant.locations.index(location_id) < own_rank
                    and place_id not in targets.get(location_id, [])):
                targets.setdefault(location_id, []).append(place_id)
    swap: dict[str, bool] = {}
    for location_id, to in targets.items():
        for source, target in zip(wasted[location_id], to, strict=False):
            swap[source], swap[target] = False, True
    return [dataclasses.replace(seat, reserved=swap[seat.place_id])
            if seat.place_id in swap else seat for seat in seats]
