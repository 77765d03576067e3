"""A run of new requests in one consumer batch stores the same requests and makes the
same offers and events as the same requests one by one."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from contracts import CloudEvent, EventData, new_event
from contracts.events import CrisisClosure, PriorityFacts
from contracts.schedule import full_days
from loketkit.testing import deliver_batch
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
from tests.unit.matching.test_bursts import LOCATIONS, assert_same


def open_places(seed: int) -> list[EventData]:
    """Locations (one short of its priority-group share, one closed) and a few places
    that nobody waits for yet, of several dates and schedules."""
    draw = random.Random(seed)
    return [
        located("loc-a", "income_related"), children_at("loc-a", 10, 1),
        located("loc-b", "basic"), located("loc-c", "plus"),
        CrisisClosure(service_area=AREA, closure_id="c1", location_id="loc-d",
                      municipality_nis="13053", reason="licence_suspended",
                      effective_from=START, announced_at=T0),
        *(freed(f"p{number}", draw.choice(LOCATIONS[:3]),
                available=START + timedelta(days=draw.choice([0, 40, 200])),
                day_parts=draw.choice([None, MORNINGS]))
          for number in range(6)),
    ]


def new_requests(seed: int) -> list[CloudEvent]:
    """40 requests with one to three choices, some partial fits, some urgent, a pair of
    siblings, one announced twice in the run and one known before it."""
    draw = random.Random(seed + 1)
    requests = [
        submitted(f"r{number}", locations=tuple(draw.sample(LOCATIONS, draw.randint(1, 3))),
                  minutes=draw.randint(0, 500),
                  urgency="urgent" if draw.random() < 0.2 else "normal",
                  facts=PriorityFacts(low_income=draw.random() < 0.3,
                                      parents_working_or_training=draw.random() < 0.5),
                  day_parts=draw.choice([None, MORNINGS, full_days(5)]),
                  partial=draw.random() < 0.4,
                  sibling_requests={12: ("r13",), 13: ("r12",)}.get(number, ()))
        for number in range(40)]
    events = [new_event(request, source="/loket/intake") for request in requests]
    events.insert(9, new_event(requests[4], source="/loket/intake"))  # announced again
    return events


async def both_ways(seed: int) -> tuple[Matching, Matching]:
    one_by_one, batched = Matching(), Matching()
    events = new_requests(seed)
    for matching in (one_by_one, batched):
        await matching.feed(*open_places(seed), events[0])
    await one_by_one.feed(*events[1:])
    outcomes = await deliver_batch(batched.app.state.consumer, events[1:])
    assert outcomes == ["applied"] * (len(events) - 1)
    return one_by_one, batched


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
async def test_a_run_of_requests_is_stored_and_offered_as_one_request_at_a_time(
        seed: int, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        one_by_one, batched = await both_ways(seed)
    assert "one by one" not in caplog.text, "the run was applied set-wise"
    assert len(one_by_one.uow.requests.rows) == 40
    assert 1 <= len(one_by_one.offered()) < 40, "some get an offer at once, most wait"
    assert_same(one_by_one, batched)


async def test_an_area_that_allocates_in_rounds_offers_only_crisis_requests_at_once() -> None:
    one_by_one, batched = Matching(), Matching()
    events = new_requests(7)
    events.append(new_event(submitted("r-crisis", locations=LOCATIONS[:3], urgency="crisis",
                                      partial=True), source="/loket/intake"))
    for matching in (one_by_one, batched):
        matching.uow.area_settings.put(AREA, {"allocation": "rounds"},
                                       NOW - timedelta(days=1))
        await matching.feed(*open_places(7))
    await one_by_one.feed(*events)
    await deliver_batch(batched.app.state.consumer, events)
    assert [request_id for request_id, _ in one_by_one.offered()] == ["r-crisis"]
    assert_same(one_by_one, batched)
