"""Allocation rounds: who gets which free place when many requests are decided together.

Pure functions over plain values (no I/O). A round has free places ("seats", each for
one child) and applicants, each with the locations the family chose (most wanted
first) and the seats the child fits (already filtered for eligibility, most wanted
first). Each location orders applicants by its priority rules (`Ranking`, lower is
better; ties are broken by request id so the order is strict).

Mechanism: child-proposing deferred acceptance (DA, Gale-Shapley). Every unplaced
child asks its most wanted seat it has not asked yet; a seat keeps the best child
that asked it so far (by `seat_key`) and turns the other away, who then asks its
next seat. The round ends when every child holds a seat or has asked all of them.
Why DA: the result has no justified envy. No child is left out of, or placed below,
a location it prefers while a child with a weaker claim holds a seat there that it
fits, and no such seat stays empty. Of all allocations without justified envy it is
the one every child likes best, and (as long as a location's ranking does not depend
on where the family put it) a family gains nothing by hiding or reordering its
choices. First come, first served does not have these properties: a child
registered early takes a seat a stronger claim wanted.

Quota (20% / 30% priority-group children, see DOMAIN.md): where a location's
priority-group share would fall short, `reserve_seats` marks just enough of its seats
as reserved. A reserved seat is a SOFT reserve: its order puts priority-group children
first and everyone else after them, so it goes to someone else only when every
priority-group child who fits it got a seat it likes better. It never stays empty for
the quota's sake. The reserve is one more step in the seat's order (`seat_key`), so DA
keeps its no-envy guarantee. A reserve sits on particular seats: when children fit
only some seats of a location (age group, day-parts), a priority-group child may fit
none of the reserved ones and the quota can still be missed; `reserve_seats` takes an
`order` to choose which seats carry the reserve.

`first_come_first_served` is the baseline to compare against: children in order
of registration each take their most wanted seat still free, with no regard to
priority rules or reserves. `measure` gives the figures for comparing outcomes:
placement rate, mean rank of the location placed at, justified-envy pairs, and
quotas met where demand exists.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

RankKey = tuple[Any, ...]  # comparable; lower is better


@dataclass(frozen=True)
class Seat:
    """One free place in the round, for one child."""

    place_id: str
    location_id: str
    # Reserved for a priority-group child (quota shortfall). Soft: its order puts
    # priority-group children first, then everyone else.
    reserved: bool = False


@dataclass(frozen=True)
class Applicant:
    """One request in the round."""

    request_id: str
    locations: tuple[str, ...]  # the family's chosen locations, most wanted first
    # place_ids of seats it fits, most wanted first (already eligibility-filtered; a seat
    # at a location earlier in `locations` always comes before one at a later location)
    places: tuple[str, ...]
    priority_group: bool
    registered_at: datetime


# A location's order of applicants (location_id given); lower is better.
Ranking = Callable[[Applicant, str], RankKey]


def seat_key(seat: Seat, applicant: Applicant, ranking: Ranking) -> RankKey:
    """The seat's order of applicants, lower is better: on a reserved seat priority-group
    children first; then the location's ranking; then request id, so no two tie."""
    return ((not applicant.priority_group) if seat.reserved else False,
            ranking(applicant, seat.location_id), applicant.request_id)


def _seats_by_id(seats: Sequence[Seat]) -> dict[str, Seat]:
    by_id: dict[str, Seat] = {}
    for seat in seats:
        if seat.place_id in by_id:
            raise ValueError(f"seat {seat.place_id!r} appears twice")
        by_id[seat.place_id] = seat
    return by_id


def _applicants_by_id(applicants: Sequence[Applicant]) -> dict[str, Applicant]:
    by_id: dict[str, Applicant] = {}
    for applicant in applicants:
        if applicant.request_id in by_id:
            # The request id breaks ties: two equal ids would make the order not strict.
            raise ValueError(f"request {applicant.request_id!r} appears twice")
        by_id[applicant.request_id] = applicant
    return by_id


def _known_places(applicant: Applicant, seats: Mapping[str, Seat]) -> list[str]:
    """The applicant's places that are seats in this round, in order, each once."""
    seen: set[str] = set()
    known: list[str] = []
    for place_id in applicant.places:
        if place_id in seats and place_id not in seen:
            seen.add(place_id)
            known.append(place_id)
    return known


def deferred_acceptance(applicants: Sequence[Applicant], seats: Sequence[Seat],
                        ranking: Ranking) -> dict[str, str]:
    """Child-proposing deferred acceptance, each seat for one child, ordered by
    `seat_key`. Returns request_id -> place_id for the placed children.

    With strict seat orders the result is the child-optimal stable matching, whatever
    the order in which children ask, so it depends only on the input's content.
    Place ids in `places` that are not seats of the round are ignored."""
    seats_by_id = _seats_by_id(seats)
    _applicants_by_id(applicants)
    wishes = [_known_places(a, seats_by_id) for a in applicants]
    next_wish = [0] * len(applicants)
    holder: dict[str, tuple[RankKey, int]] = {}  # place_id -> (key, applicant index)
    # The ranking is per location: compute it once per (child, location), as a child
    # often fits many seats at one location.
    rank_cache: dict[tuple[int, str], RankKey] = {}

    # Children without a seat who still have seats to ask; a stack is enough, the
    # order of asking does not change the result.
    free = list(range(len(applicants) - 1, -1, -1))
    while free:
        i = free.pop()
        applicant = applicants[i]
        own = wishes[i]
        while next_wish[i] < len(own):
            place_id = own[next_wish[i]]
            next_wish[i] += 1
            seat = seats_by_id[place_id]
            rank = rank_cache.get((i, seat.location_id))
            if rank is None:
                rank = ranking(applicant, seat.location_id)
                rank_cache[(i, seat.location_id)] = rank
            key: RankKey = ((not applicant.priority_group) if seat.reserved else False,
                            rank, applicant.request_id)
            held = holder.get(place_id)
            if held is None:
                holder[place_id] = (key, i)
                break
            if key < held[0]:
                holder[place_id] = (key, i)
                free.append(held[1])  # turned away: asks its next seat later
                break
        # Asked every seat and was turned away by each: stays unplaced.
    placed = {i: place_id for place_id, (_, i) in holder.items()}
    return {applicants[i].request_id: placed[i] for i in sorted(placed)}  # input order


def first_come_first_served(applicants: Sequence[Applicant],
                            seats: Sequence[Seat]) -> dict[str, str]:
    """The baseline: in (registered_at, request_id) order each child takes its most
    wanted seat still free. Priority rules and reserves play no part."""
    seats_by_id = _seats_by_id(seats)
    _applicants_by_id(applicants)
    taken: set[str] = set()
    outcome: dict[str, str] = {}
    for applicant in sorted(applicants, key=lambda a: (a.registered_at, a.request_id)):
        for place_id in applicant.places:
            if place_id in seats_by_id and place_id not in taken:
                taken.add(place_id)
                outcome[applicant.request_id] = place_id
                break
    return outcome


def _holders(outcome: Mapping[str, str], applicants: Mapping[str, Applicant],
             seats: Mapping[str, Seat]) -> dict[str, str]:
    """place_id -> request_id of a valid outcome; an outcome naming an unknown request or
    seat, or giving a seat twice, is a bug in the caller and raises."""
    holders: dict[str, str] = {}
    for request_id, place_id in outcome.items():
        if request_id not in applicants:
            raise ValueError(f"outcome names unknown request {request_id!r}")
        if place_id not in seats:
            raise ValueError(f"outcome names unknown seat {place_id!r}")
        if place_id in holders:
            raise ValueError(f"outcome gives seat {place_id!r} twice")
        holders[place_id] = request_id
    return holders


def _location_rank(applicant: Applicant, location_id: str | None) -> int:
    """0-based position of the location in the family's choices; unplaced (None), or a
    location it did not choose, ranks below every choice."""
    if location_id is not None and location_id in applicant.locations:
        return applicant.locations.index(location_id)
    return len(applicant.locations)


@dataclass(frozen=True)
class EnvyPair:
    """Justified envy: a child prefers a location to the one it got, and a seat there that
    it fits is empty or held by a child with a weaker claim on that seat."""

    request_id: str  # the child who envies
    location_id: str  # a location it ranks strictly higher than the one it got
    place_id: str  # the seat there, which it fits
    holder_id: str | None  # the child holding that seat, or None when it stayed empty


def envy_pairs(outcome: Mapping[str, str], applicants: Sequence[Applicant],
               seats: Sequence[Seat], ranking: Ranking) -> list[EnvyPair]:
    """Every justified-envy pair of the outcome, by child (input order) then its places.

    Child c envies seat s at location l when c ranks l strictly higher than the location
    it got (unplaced: below every choice), s is in c.places, and s is empty or held by
    d with seat_key(s, c) < seat_key(s, d). Seats at c's own location never count."""
    seats_by_id = _seats_by_id(seats)
    by_id = _applicants_by_id(applicants)
    holders = _holders(outcome, by_id, seats_by_id)
    pairs: list[EnvyPair] = []
    for applicant in applicants:
        own_place = outcome.get(applicant.request_id)
        own_rank = _location_rank(
            applicant, seats_by_id[own_place].location_id if own_place is not None else None)
        seen: set[str] = set()
        for place_id in applicant.places:
            seat = seats_by_id.get(place_id)
            if seat is None or place_id in seen:
                continue
            seen.add(place_id)
            if seat.location_id not in applicant.locations:
                continue  # not a location it chose: it prefers nothing there
            if applicant.locations.index(seat.location_id) >= own_rank:
                break  # places come in the family's order of locations: none preferred after
            holder_id = holders.get(place_id)
            if holder_id is None or (seat_key(seat, applicant, ranking)
                                     < seat_key(seat, by_id[holder_id], ranking)):
                pairs.append(EnvyPair(applicant.request_id, seat.location_id, place_id,
                                      holder_id))
    return pairs


@dataclass(frozen=True)
class LocationQuota:
    """A location's priority-group obligation and its children before the round."""

    location_id: str
    required_share: float  # 0.0 when the location has no obligation
    enrolled: int  # children already there before the round
    priority_enrolled: int  # of whom priority-group children

    def __post_init__(self) -> None:
        if not 0.0 <= self.required_share <= 1.0:
            raise ValueError(f"required_share {self.required_share} is not in [0, 1]")
        if not 0 <= self.priority_enrolled <= self.enrolled:
            raise ValueError("need 0 <= priority_enrolled <= enrolled")


def _exact_share(share: float) -> Fraction:
    # The decimal the share was written as (0.2 is 1/5, not the float just above it), so
    # 20% of 10 children is exactly 2 and no float error adds or drops a seat.
    return Fraction(repr(float(share)))


def reserved_seat_count(quota: LocationQuota, free_places: int) -> int:
    """How many of the location's free places to reserve: the fewest x in
    [0, free_places] with priority_enrolled + x >= required_share * (enrolled +
    free_places), or free_places when even that falls short."""
    if free_places <= 0:
        return 0
    needed = _exact_share(quota.required_share) * (quota.enrolled + free_places)
    shortfall = needed - quota.priority_enrolled
    if shortfall <= 0:
        return 0
    # ceil of a positive fraction
    return min(free_places, -(-shortfall.numerator // shortfall.denominator))


def reserve_seats(seats: Sequence[Seat], quotas: Mapping[str, LocationQuota],
                  order: Callable[[Seat], Any] | None = None) -> list[Seat]:
    """The seats (input order) with `reserved` set from the quotas alone: per location,
    the first reserved_seat_count(...) of its seats in `order` (default: input order)
    are reserved and its other seats are not; seats at a location without a quota are
    not reserved."""
    by_location: dict[str, list[int]] = defaultdict(list)
    for index, seat in enumerate(seats):
        by_location[seat.location_id].append(index)
    reserved: set[int] = set()
    for location_id, indexes in by_location.items():
        quota = quotas.get(location_id)
        if quota is None:
            continue
        if order is not None:
            key = order
            indexes = sorted(indexes, key=lambda i: key(seats[i]))  # stable on ties
        reserved.update(indexes[:reserved_seat_count(quota, len(indexes))])
    return [dataclasses.replace(seat, reserved=index in reserved)
            for index, seat in enumerate(seats)]


@dataclass(frozen=True)
class QuotaResult:
    """How a location's quota fares after an outcome."""

    location_id: str
    required_share: float
    # priority-group share of the location's children after the outcome (enrolled +
    # placed); 0.0 when it has no children at all
    share_after: float
    met: bool  # share_after >= required_share (compared exactly)
    # False when no more priority-group children could have been placed there (see
    # `quota_results`)
    demand_allows: bool
    # "quota-respecting where demand exists" means: met or not demand_allows


def quota_results(outcome: Mapping[str, str], applicants: Sequence[Applicant],
                  seats: Sequence[Seat],
                  quotas: Mapping[str, LocationQuota]) -> list[QuotaResult]:
    """One result per quota location, by location id.

    demand_allows: some priority-group child fits a seat at the location, was not
    placed at a location it ranks at least as high, and that seat is empty or held by a
    child outside the priority group, so one more priority-group child could have been
    placed there. When every seat there went to priority-group children the location
    did all it could, even if the quota is out of reach (too few free places)."""
    seats_by_id = _seats_by_id(seats)
    by_id = _applicants_by_id(applicants)
    holders = _holders(outcome, by_id, seats_by_id)

    placed: dict[str, int] = defaultdict(int)
    priority_placed: dict[str, int] = defaultdict(int)
    for request_id, place_id in outcome.items():
        location_id = seats_by_id[place_id].location_id
        placed[location_id] += 1
        priority_placed[location_id] += by_id[request_id].priority_group

    # Locations where one more priority-group child could have been placed.
    room: set[str] = set()
    for applicant in applicants:
        if not applicant.priority_group:
            continue
        own_place = outcome.get(applicant.request_id)
        own_rank = _location_rank(
            applicant, seats_by_id[own_place].location_id if own_place is not None else None)
        for place_id in _known_places(applicant, seats_by_id):
            seat = seats_by_id[place_id]
            if seat.location_id not in applicant.locations:
                continue  # not a location it chose (inconsistent input): no demand there
            if applicant.locations.index(seat.location_id) < own_rank:
                holder_id = holders.get(place_id)
                if holder_id is None or not by_id[holder_id].priority_group:
                    room.add(seat.location_id)

    results: list[QuotaResult] = []
    for location_id in sorted(quotas):
        quota = quotas[location_id]
        children = quota.enrolled + placed[location_id]
        priority = quota.priority_enrolled + priority_placed[location_id]
        share = Fraction(priority, children) if children else Fraction(0)
        results.append(QuotaResult(
            location_id=location_id,
            required_share=quota.required_share,
            share_after=float(share),
            met=share >= _exact_share(quota.required_share),
            demand_allows=location_id in room,
        ))
    return results


@dataclass(frozen=True)
class Figures:
    """Figures to compare outcomes of one round (e.g. DA against FCFS)."""

    applicants: int
    seats: int
    placed: int
    placement_rate: float  # placed / applicants (0 when none)
    mean_rank: float | None  # mean 1-based rank (in c.locations) of the location placed at
    envy_pairs: int
    quota_locations: int  # locations with required_share > 0
    quota_met: int  # of those, met or not demand_allows

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def measure(outcome: Mapping[str, str], applicants: Sequence[Applicant],
            seats: Sequence[Seat], ranking: Ranking,
            quotas: Mapping[str, LocationQuota]) -> Figures:
    """The figures of an outcome. A child placed at a location it did not choose counts
    as rank len(locations) + 1."""
    seats_by_id = _seats_by_id(seats)
    by_id = _applicants_by_id(applicants)
    _holders(outcome, by_id, seats_by_id)
    ranks = [_location_rank(by_id[r], seats_by_id[p].location_id) + 1
             for r, p in outcome.items()]
    quota = [q for q in quota_results(outcome, applicants, seats, quotas)
             if q.required_share > 0]
    return Figures(
        applicants=len(applicants),
        seats=len(seats),
        placed=len(outcome),
        placement_rate=len(outcome) / len(applicants) if applicants else 0.0,
        mean_rank=sum(ranks) / len(ranks) if ranks else None,
        envy_pairs=len(envy_pairs(outcome, applicants, seats, ranking)),
        quota_locations=len(quota),
        quota_met=sum(q.met or not q.demand_allows for q in quota),
    )
