"""Allocation rounds (`domain/allocation.py`): deferred acceptance against first come,
first served, justified envy, and soft-reserved seats for the priority-group quota.

Properties run over random small areas (1-8 locations, 0-6 seats each, 0-25
applicants choosing up to 4 locations, fitting seats, ranking keys and quotas); hand-made
examples pin the checkers themselves, so a checker that finds nothing fails."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.allocation import (
    Applicant,
    EnvyPair,
    LocationQuota,
    Ranking,
    RankKey,
    Seat,
    deferred_acceptance,
    envy_pairs,
    first_come_first_served,
    measure,
    quota_results,
    reserve_seats,
    reserved_seat_count,
    seat_key,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SHARES = (0.0, 0.2, 0.3, 1 / 3, 0.5, 1.0)
PROPERTY = settings(max_examples=200, deadline=None, database=None)


@dataclass(frozen=True)
class Area:
    """One random round: seats, applicants, each location's ranking keys and quotas."""

    seats: list[Seat]
    applicants: list[Applicant]
    keys: dict[tuple[str, str], int]  # (request_id, location_id) -> ranking key
    quotas: dict[str, LocationQuota]

    def ranking(self, applicant: Applicant, location_id: str) -> RankKey:
        return (self.keys.get((applicant.request_id, location_id), 0),)

    def reserved(self) -> Area:
        return replace(self, seats=reserve_seats(self.seats, self.quotas))


@st.composite
def areas(draw: st.DrawFn, whole_locations: bool = False) -> Area:
    """A random area. With `whole_locations` a child fits every seat of each location it
    chooses (eligibility per location); else a random subset of them. Draws are kept few
    (bit masks for choices and fits, a seed for their order) so examples are quick."""
    locations = [f"loc-{i}" for i in range(draw(st.integers(1, 8)))]
    seats_at = {loc: [f"{loc}/p{j}" for j in range(draw(st.integers(0, 6)))]
                for loc in locations}
    seats = [Seat(place_id, loc) for loc in locations for place_id in seats_at[loc]]
    shuffler = random.Random(draw(st.integers(0, 2**16)))
    applicants: list[Applicant] = []
    keys: dict[tuple[str, str], int] = {}
    for i in range(draw(st.integers(0, 25))):
        request_id = f"req-{i:02d}"
        picked = draw(st.integers(0, 2 ** len(locations) - 1))
        chosen = [loc for j, loc in enumerate(locations) if picked >> j & 1]
        shuffler.shuffle(chosen)  # the family's order
        chosen = chosen[:4]
        candidates = [p for loc in chosen for p in seats_at[loc]]
        fit = (2 ** len(candidates) - 1) if whole_locations else draw(
            st.integers(0, 2 ** len(candidates) - 1))
        ranks = draw(st.integers(0, 4 ** len(chosen) - 1))  # 0-3 per location: ties happen
        places: list[str] = []
        for k, loc in enumerate(chosen):  # seats at a more wanted location come first
            fits = [p for p in seats_at[loc] if fit >> candidates.index(p) & 1]
            shuffler.shuffle(fits)  # any order within a location
            places += fits
            keys[(request_id, loc)] = ranks >> (2 * k) & 3
        applicants.append(Applicant(
            request_id=request_id, locations=tuple(chosen), places=tuple(places),
            priority_group=draw(st.booleans()),
            registered_at=T0 + timedelta(minutes=draw(st.integers(0, 10)))))
    quotas: dict[str, LocationQuota] = {}
    for loc in locations:
        if draw(st.booleans()):
            enrolled = draw(st.integers(0, 20))
            quotas[loc] = LocationQuota(
                loc, draw(st.sampled_from(SHARES) | st.floats(0.0, 1.0)), enrolled,
                draw(st.integers(0, enrolled)))
    return Area(seats, applicants, keys, quotas)


def da(area: Area) -> dict[str, str]:
    return deferred_acceptance(area.applicants, area.seats, area.ranking)


def applicant(request_id: str, locations: tuple[str, ...], places: tuple[str, ...],
              priority: bool = False, minute: int = 0) -> Applicant:
    return Applicant(request_id, locations, places, priority,
                     T0 + timedelta(minutes=minute))


def ranked(keys: Mapping[str, int]) -> Ranking:
    """Every location orders children by these keys (by request id; lower is better)."""
    return lambda a, _location: (keys[a.request_id],)


# Deferred acceptance, as properties


@PROPERTY
@given(areas(), st.booleans())
def test_da_gives_fitting_seats_once_and_leaves_no_justified_envy(area: Area,
                                                                  reserve: bool) -> None:
    """No seat goes to two children; each child gets a seat from its `places`; no child
    is left out of, or placed below, a location it prefers while a seat there that it
    fits is empty or held by a weaker claim, with reserved seats or without. First come,
    first served gives valid seats too, but may leave envy: never less than DA."""
    area = area.reserved() if reserve else area
    by_id = {a.request_id: a for a in area.applicants}
    outcome = da(area)
    fcfs = first_come_first_served(area.applicants, area.seats)
    for allocation in (outcome, fcfs):
        assert len(set(allocation.values())) == len(allocation)
        for request_id, place_id in allocation.items():
            assert place_id in by_id[request_id].places
    assert envy_pairs(outcome, area.applicants, area.seats, area.ranking) == []
    figures_da = measure(outcome, area.applicants, area.seats, area.ranking, area.quotas)
    figures_fcfs = measure(fcfs, area.applicants, area.seats, area.ranking, area.quotas)
    assert figures_da.envy_pairs == 0 <= figures_fcfs.envy_pairs


@PROPERTY
@given(areas(whole_locations=True))
def test_da_with_reserved_seats_respects_quotas_where_demand_exists(area: Area) -> None:
    """With seats reserved by `reserve_seats` (and children fitting every seat of a
    location they choose), each quota is met, or no more priority-group children could
    have been placed there."""
    area = area.reserved()
    results = quota_results(da(area), area.applicants, area.seats, area.quotas)
    assert [r.location_id for r in results] == sorted(area.quotas)
    assert all(r.met or not r.demand_allows for r in results), results


@PROPERTY
@given(areas(), st.booleans(), st.integers(0, 2**16))
def test_da_depends_only_on_the_input(area: Area, reserve: bool, seed: int) -> None:
    """The same input gives the same outcome, in whatever order applicants and seats
    come."""
    area = area.reserved() if reserve else area
    outcome = da(area)
    assert da(area) == outcome
    applicants, seats = list(area.applicants), list(area.seats)
    shuffler = random.Random(seed)
    shuffler.shuffle(applicants)
    shuffler.shuffle(seats)
    assert deferred_acceptance(applicants, seats, area.ranking) == outcome


# Hand-made rounds


def test_fcfs_gives_the_seat_to_the_first_registered_and_da_to_the_stronger_claim() -> None:
    """One seat, two children: FCFS gives it to the one registered first, whose claim is
    weaker, so the other has justified envy; DA gives it to the stronger claim."""
    seats = [Seat("a1", "A")]
    early = applicant("early", ("A",), ("a1",), minute=0)
    late = applicant("late", ("A",), ("a1",), minute=5)
    ranking = ranked({"early": 2, "late": 1})

    fcfs = first_come_first_served([early, late], seats)
    assert fcfs == {"early": "a1"}
    assert envy_pairs(fcfs, [early, late], seats, ranking) == [
        EnvyPair("late", "A", "a1", "early")]

    outcome = deferred_acceptance([early, late], seats, ranking)
    assert outcome == {"late": "a1"}
    assert envy_pairs(outcome, [early, late], seats, ranking) == []


def test_da_moves_a_child_on_to_its_next_choice_when_turned_away() -> None:
    """A child turned away at its first choice by a stronger claim takes its second
    choice, and a weaker claim held there gives way."""
    seats = [Seat("a1", "A"), Seat("b1", "B")]
    x = applicant("x", ("A", "B"), ("a1", "b1"))
    y = applicant("y", ("A",), ("a1",))
    z = applicant("z", ("B",), ("b1",))
    outcome = deferred_acceptance([x, y, z], seats, ranked({"y": 1, "x": 2, "z": 3}))
    assert outcome == {"y": "a1", "x": "b1"}


def test_da_ignores_place_ids_that_are_not_seats_of_the_round() -> None:
    """A place id in `places` that is no seat of the round is skipped."""
    seats = [Seat("a1", "A")]
    child = applicant("c", ("A",), ("gone", "a1"))
    assert deferred_acceptance([child], seats, ranked({"c": 1})) == {"c": "a1"}


def test_da_meets_a_quota_that_fcfs_misses() -> None:
    """Two seats at a 50% location with no children yet: one is reserved. Two children
    outside the priority group registered first take both under FCFS; under DA the
    reserved seat goes to the priority-group child, though its ranking key is worst."""
    quotas = {"A": LocationQuota("A", 0.5, enrolled=0, priority_enrolled=0)}
    seats = reserve_seats([Seat("a1", "A"), Seat("a2", "A")], quotas)
    assert [s.reserved for s in seats] == [True, False]
    n1 = applicant("n1", ("A",), ("a1", "a2"), minute=0)
    n2 = applicant("n2", ("A",), ("a1", "a2"), minute=1)
    p = applicant("p", ("A",), ("a1", "a2"), priority=True, minute=2)
    applicants = [n1, n2, p]
    ranking = ranked({"n1": 1, "n2": 2, "p": 3})

    fcfs = first_come_first_served(applicants, seats)
    assert fcfs == {"n1": "a1", "n2": "a2"}
    [fcfs_result] = quota_results(fcfs, applicants, seats, quotas)
    assert (fcfs_result.met, fcfs_result.demand_allows) == (False, True)
    assert fcfs_result.share_after == 0.0

    outcome = deferred_acceptance(applicants, seats, ranking)
    assert outcome == {"p": "a1", "n1": "a2"}
    [da_result] = quota_results(outcome, applicants, seats, quotas)
    assert da_result.met and da_result.share_after == 0.5

    assert measure(fcfs, applicants, seats, ranking, quotas).quota_met == 0
    assert measure(outcome, applicants, seats, ranking, quotas).quota_met == 1


def test_a_reserved_seat_goes_to_another_child_when_no_priority_child_wants_it() -> None:
    """The reserve is soft: without a priority-group child asking, the seat is not left
    empty."""
    seats = [Seat("a1", "A", reserved=True)]
    child = applicant("c", ("A",), ("a1",))
    assert deferred_acceptance([child], seats, ranked({"c": 1})) == {"c": "a1"}


def test_a_reserve_on_a_seat_no_priority_child_fits_can_miss_the_quota() -> None:
    """A known limit of seat reserves: the priority-group child fits only the unreserved
    seat, where a stronger claim wins, so the quota is missed although it wanted a seat
    there (this is why the quota property draws whole-location eligibility)."""
    quotas = {"A": LocationQuota("A", 0.5, enrolled=0, priority_enrolled=0)}
    seats = reserve_seats([Seat("a1", "A"), Seat("a2", "A")], quotas)
    applicants = [applicant("n1", ("A",), ("a1",)), applicant("n2", ("A",), ("a2",)),
                  applicant("p", ("A",), ("a2",), priority=True)]
    outcome = deferred_acceptance(applicants, seats, ranked({"n1": 1, "n2": 1, "p": 2}))
    assert outcome == {"n1": "a1", "n2": "a2"}
    [result] = quota_results(outcome, applicants, seats, quotas)
    assert (result.met, result.demand_allows) == (False, True)


def test_a_quota_out_of_reach_counts_as_respected_when_every_seat_went_to_the_group() -> None:
    """30% of 10 children with none from the priority group cannot be met with one free
    place; when that place goes to a priority-group child, no more could have been
    placed there, even with another priority-group child left out."""
    quotas = {"A": LocationQuota("A", 0.3, enrolled=9, priority_enrolled=0)}
    seats = reserve_seats([Seat("a1", "A")], quotas)
    assert seats == [Seat("a1", "A", reserved=True)]
    applicants = [applicant("p1", ("A",), ("a1",), priority=True),
                  applicant("p2", ("A",), ("a1",), priority=True)]
    outcome = deferred_acceptance(applicants, seats, ranked({"p1": 1, "p2": 2}))
    assert outcome == {"p1": "a1"}
    [result] = quota_results(outcome, applicants, seats, quotas)
    assert result.share_after == pytest.approx(0.1)
    assert (result.met, result.demand_allows) == (False, False)


# The envy checker on hand-made outcomes


SEATS_AB = [Seat("a1", "A"), Seat("b1", "B")]


def test_envy_pairs_finds_a_stronger_claim_left_out_for_a_weaker_one() -> None:
    """A child with a better key left out while a weaker child holds its preferred seat
    is exactly one pair."""
    strong = applicant("strong", ("A",), ("a1",))
    weak = applicant("weak", ("A",), ("a1",))
    pairs = envy_pairs({"weak": "a1"}, [strong, weak], SEATS_AB,
                       ranked({"strong": 1, "weak": 2}))
    assert pairs == [EnvyPair("strong", "A", "a1", "weak")]


def test_envy_pairs_finds_an_empty_seat_a_child_fits() -> None:
    """A child placed at its second choice, or left out, while a seat it fits at a more
    wanted location stays empty, envies that seat with no holder."""
    child = applicant("c", ("A", "B"), ("a1", "b1"))
    ranking = ranked({"c": 1})
    assert envy_pairs({"c": "b1"}, [child], SEATS_AB, ranking) == [
        EnvyPair("c", "A", "a1", None)]
    assert envy_pairs({}, [child], SEATS_AB, ranking) == [
        EnvyPair("c", "A", "a1", None), EnvyPair("c", "B", "b1", None)]


def test_envy_pairs_ignores_stronger_claims_and_seats_the_child_does_not_fit() -> None:
    """No pair for a seat held by a stronger claim, or for a seat the child does not fit
    at a location it prefers."""
    c = applicant("c", ("A", "B"), ("a1", "b1"))
    d = applicant("d", ("A",), ("a1",))
    e = applicant("e", ("A", "B"), ("b1",))  # fits no seat at A
    ranking = ranked({"d": 1, "c": 2, "e": 3})
    assert envy_pairs({"d": "a1", "c": "b1"}, [c, d, e], SEATS_AB, ranking) == []


def test_envy_pairs_ignores_seats_at_the_childs_own_location() -> None:
    """A child placed at a location does not envy another seat there, even one it lists
    first that a weaker claim holds: its choices are locations."""
    seats = [Seat("a1", "A"), Seat("a2", "A")]
    c = applicant("c", ("A",), ("a1", "a2"))
    w = applicant("w", ("A",), ("a1", "a2"))
    ranking = ranked({"c": 1, "w": 2})
    assert envy_pairs({"c": "a2", "w": "a1"}, [c, w], seats, ranking) == []
    assert envy_pairs({"w": "a1"}, [c, w], seats, ranking) == [
        EnvyPair("c", "A", "a1", "w"), EnvyPair("c", "A", "a2", None)]


def test_envy_pairs_uses_the_seat_order_with_its_reserve() -> None:
    """On a reserved seat a priority-group child's claim beats a better ranking key."""
    seats = [Seat("a1", "A", reserved=True)]
    p = applicant("p", ("A",), ("a1",), priority=True)
    n = applicant("n", ("A",), ("a1",))
    ranking = ranked({"p": 2, "n": 1})
    assert seat_key(seats[0], p, ranking) < seat_key(seats[0], n, ranking)
    assert envy_pairs({"n": "a1"}, [p, n], seats, ranking) == [
        EnvyPair("p", "A", "a1", "n")]
    assert envy_pairs({"p": "a1"}, [p, n], seats, ranking) == []


def test_outcomes_that_name_unknown_seats_or_give_a_seat_twice_are_refused() -> None:
    """Measuring an impossible outcome is a bug in the caller, not a figure."""
    a, b = applicant("a", ("A",), ("a1",)), applicant("b", ("A",), ("a1",))
    ranking = ranked({"a": 1, "b": 2})
    with pytest.raises(ValueError):
        envy_pairs({"a": "a1", "b": "a1"}, [a, b], SEATS_AB, ranking)
    with pytest.raises(ValueError):
        envy_pairs({"a": "zz"}, [a, b], SEATS_AB, ranking)


# Reserved seats


@pytest.mark.parametrize(("share", "enrolled", "priority_enrolled", "free", "expected"), [
    (0.2, 8, 1, 2, 1),  # 20% of 10 is 2: one more priority-group child
    (0.0, 8, 1, 2, 0),  # no obligation
    (0.3, 10, 5, 2, 0),  # already met: 5 of 12
    (0.5, 10, 0, 2, 2),  # out of reach: every free place
    (0.3, 8, 1, 2, 2),  # 30% of 10 is 3
    (1 / 3, 4, 0, 2, 2),  # a third of 6 is exactly 2, no float error adds a seat
    (0.2, 8, 1, 0, 0),  # no free places
])
def test_reserved_seat_count(share: float, enrolled: int, priority_enrolled: int,
                             free: int, expected: int) -> None:
    """The fewest free places that bring the priority-group share up to the quota."""
    quota = LocationQuota("A", share, enrolled, priority_enrolled)
    assert reserved_seat_count(quota, free) == expected


@PROPERTY
@given(st.floats(0.0, 1.0), st.integers(0, 30), st.data(), st.integers(0, 10))
def test_reserved_seat_count_is_the_fewest_that_reach_the_share(
        share: float, enrolled: int, data: st.DataObject, free: int) -> None:
    """x reaches the share (or is every free place), and x - 1 does not."""
    priority = data.draw(st.integers(0, enrolled))
    x = reserved_seat_count(LocationQuota("A", share, enrolled, priority), free)
    assert 0 <= x <= free
    total = enrolled + free
    slack = 1e-9 * max(total, 1)
    assert x == free or priority + x >= share * total - slack
    assert x == 0 or priority + x - 1 < share * total + slack


def test_reserve_seats_marks_the_first_seats_in_order_per_location() -> None:
    """Per location the first seats in `order` are reserved, the rest are not, seats at
    a location without a quota are not; the input order is kept."""
    seats = [Seat("a2", "A"), Seat("b1", "B", reserved=True), Seat("a1", "A"),
             Seat("a3", "A")]
    quotas = {"A": LocationQuota("A", 0.4, enrolled=7, priority_enrolled=2)}  # 4 of 10
    assert [s.reserved for s in reserve_seats(seats, quotas)] == [True, False, True, False]
    by_id = reserve_seats(seats, quotas, order=lambda s: s.place_id)
    assert [(s.place_id, s.reserved) for s in by_id] == [
        ("a2", True), ("b1", False), ("a1", True), ("a3", False)]
    backwards = reserve_seats(seats, quotas, order=lambda s: -int(s.place_id[1:]))
    assert [s.reserved for s in backwards] == [True, False, False, True]


def test_quotas_outside_zero_to_one_are_refused() -> None:
    """A share above 1 or more priority-group children than children is a data error."""
    with pytest.raises(ValueError):
        LocationQuota("A", 1.5, 10, 1)
    with pytest.raises(ValueError):
        LocationQuota("A", 0.2, 1, 2)


# Figures


def test_measure_sums_up_an_outcome() -> None:
    """Placement rate, mean rank of the location placed at, envy and quotas."""
    seats = [Seat("a1", "A"), Seat("b1", "B")]
    quotas = {"A": LocationQuota("A", 0.2, enrolled=4, priority_enrolled=1),
              "B": LocationQuota("B", 0.0, enrolled=3, priority_enrolled=0)}
    x = applicant("x", ("A", "B"), ("a1", "b1"))
    y = applicant("y", ("A", "B"), ("a1", "b1"))
    z = applicant("z", ("B",), ())
    ranking = ranked({"x": 1, "y": 2, "z": 3})
    figures = measure({"y": "a1", "x": "b1"}, [x, y, z], seats, ranking, quotas)
    assert figures.as_dict() == {
        "applicants": 3, "seats": 2, "placed": 2, "placement_rate": 2 / 3,
        "mean_rank": 1.5, "envy_pairs": 1, "quota_locations": 1, "quota_met": 1}
    empty = measure({}, [], [], ranking, {})
    assert (empty.placement_rate, empty.mean_rank) == (0.0, None)
