"""A burst of freed places in one consumer batch makes exactly the offers, places,
requests and events that the same places make one by one."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from contracts import CloudEvent, EventData, new_event
from contracts.events import CrisisClosure, EnrolmentEnded, PlaceWithdrawn, PriorityFacts
from contracts.schedule import full_days
from loketkit.testing import deliver_batch
from services.matching import bursts
from tests.unit.matching.harness import (
    AREA,
    MORNINGS,
    NOW,
    START,
    T0,
    Matching,
    children_at,
    freed,
    located,
    submitted,
)

LOCATIONS = ("loc-a", "loc-b", "loc-c", "loc-d")


def waiting_list(seed: int) -> list[EventData]:
    """Locations (one short of its priority-group share, one closed) and 30 requests
    with lists of one to three choices, some partial fits, some urgent, a pair of
    siblings."""
    draw = random.Random(seed)
    events: list[EventData] = [
        located("loc-a", "income_related"), children_at("loc-a", 10, 1),
        located("loc-b", "basic"), located("loc-c", "plus"),
        CrisisClosure(service_area=AREA, closure_id="c1", location_id="loc-d",
                      municipality_nis="13053", reason="licence_suspended",
                      effective_from=START, announced_at=T0),
    ]
    for number in range(30):
        choices = tuple(draw.sample(LOCATIONS[:3], draw.randint(1, 3)))
        siblings = {12: ("r13",), 13: ("r12",)}.get(number, ())
        events.append(submitted(
            f"r{number}", locations=choices, minutes=draw.randint(0, 500),
            urgency="urgent" if draw.random() < 0.2 else "normal",
            facts=PriorityFacts(low_income=draw.random() < 0.3,
                                parents_working_or_training=draw.random() < 0.5),
            day_parts=draw.choice([None, MORNINGS, full_days(5)]),
            partial=draw.random() < 0.4, sibling_requests=siblings))
    return events


def freed_places(seed: int, count: int) -> list[CloudEvent]:
    draw = random.Random(seed + 1)
    places = [freed(f"p{number}", draw.choice(LOCATIONS),
                    available=START + timedelta(days=draw.choice([0, 0, 40, 200])),
                    day_parts=draw.choice([None, MORNINGS]))
              for number in range(count)]
    places.insert(5, places[2])  # announced twice in the burst
    return [new_event(place, source="/loket/capacity") for place in places]


async def both_ways(seed: int, count: int) -> tuple[Matching, Matching]:
    one_by_one, burst = Matching(), Matching()
    before = new_event(freed("p-before", "loc-b"), source="/loket/capacity")
    events = freed_places(seed, count)
    events.insert(3, before)  # known before the burst
    for matching in (one_by_one, burst):
        await matching.feed(*waiting_list(seed), before)
    await one_by_one.feed(*events)
    outcomes = await deliver_batch(burst.app.state.consumer, events)
    assert outcomes.count("duplicate") == 1 and "dead-lettered" not in outcomes
    return one_by_one, burst


def assert_same(one_by_one: Matching, burst: Matching) -> None:
    assert burst.offered() == one_by_one.offered()
    assert burst.proposals() == one_by_one.proposals()
    assert burst.uow.places.rows == one_by_one.uow.places.rows
    assert burst.uow.matches.rows == one_by_one.uow.matches.rows
    assert burst.uow.requests.rows == one_by_one.uow.requests.rows
    assert burst.uow.requests.keys == one_by_one.uow.requests.keys


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_a_burst_makes_the_same_offers_as_one_place_at_a_time(
        seed: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        one_by_one, burst = await both_ways(seed, 40)
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    assert len(one_by_one.offered()) >= 10, "the scenario makes offers"
    assert {status for status in (p.status for p in one_by_one.uow.places.rows.values())
            } >= {"proposed", "open", "cancelled"}
    assert_same(one_by_one, burst)


async def test_a_location_whose_candidates_run_out_hands_the_rest_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bursts, "CANDIDATES_PER_PLACE", 0)
    monkeypatch.setattr(bursts, "EXTRA_CANDIDATES", 1)
    assert_same(*await both_ways(5, 30))


def between_the_places(events: list[CloudEvent]) -> list[CloudEvent]:
    """The burst with an organiser's other events between its places: loc-a declares
    enough priority-group children to stop reserving, a child leaves it, the first five
    places are withdrawn (offers on them end), and one place is withdrawn before it is
    announced."""
    later = next(made for made in events[20:] if made.subject)
    others: dict[int, list[EventData]] = {
        8: [children_at("loc-a", 10, 9)],
        14: [EnrolmentEnded(service_area=AREA, enrolment_id="loc-a-e3", location_id="loc-a",
                            municipality_nis="13053", ended_on=START, reason="left",
                            recorded_at=T0)],
        18: [withdrawn(f"p{number}") for number in range(5)],
        19: [withdrawn(later.subject or "")],
        25: [children_at("loc-b", 6, 0)],
    }
    mixed: list[CloudEvent] = []
    for index, made in enumerate(events):
        mixed += [new_event(data, source="/loket/capacity") for data in others.get(index, [])]
        mixed.append(made)
    return mixed


def withdrawn(place_id: str) -> PlaceWithdrawn:
    return PlaceWithdrawn(service_area=AREA, place_id=place_id, location_id="loc-a",
                          municipality_nis="13053", withdrawn_at=T0)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_other_capacity_events_between_the_places_change_what_they_would_one_by_one(
        seed: int, caplog: pytest.LogCaptureFixture) -> None:
    one_by_one, burst = Matching(), Matching()
    for matching in (one_by_one, burst):
        await matching.feed(*waiting_list(seed))
    events = between_the_places(freed_places(seed, 40))
    await one_by_one.feed(*events)
    with caplog.at_level(logging.WARNING):
        outcomes = await deliver_batch(burst.app.state.consumer, events)
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    assert outcomes == ["applied"] * len(events)
    ended = [match for match in one_by_one.uow.matches.rows.values()
             if match.status == "cancelled"]
    assert ended, "a withdrawn place's offer ended"
    assert len(one_by_one.offered()) > len(ended), "its request got another offer"
    assert_same(one_by_one, burst)


async def test_an_area_that_allocates_in_rounds_keeps_its_places_open() -> None:
    one_by_one, burst = Matching(), Matching()
    for matching in (one_by_one, burst):
        matching.uow.area_settings.put(AREA, {"allocation": "rounds"},
                                       NOW - timedelta(days=1))
        await matching.feed(*waiting_list(6))
    events = freed_places(6, 10)
    await one_by_one.feed(*events)
    await deliver_batch(burst.app.state.consumer, events)
    assert burst.offered() == [] == one_by_one.offered()
    assert_same(one_by_one, burst)
