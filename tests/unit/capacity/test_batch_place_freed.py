"""A burst of organisers' PlaceFreed applied together (`on_inbound_places_freed`) has
the effect of `on_inbound_place_freed` on each in turn: the same places stored, the same
events published in the same order with the same cause, the same audit records; and a
run holding an event that handler refuses raises, so the consumer falls back to it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from contracts import new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import organiser_inbound_topic
from loketkit.consumer import Delivered, Incoming, Origin
from loketkit.testing import RecordingDeadLetters
from services.capacity.bootstrap import bootstrap
from services.capacity.domain.model import Enrolment, FreePlace, Location, PlaceSource
from services.capacity.handlers import (
    EVENT_BATCH_HANDLERS,
    EVENT_HANDLERS,
    on_inbound_place_freed,
    on_inbound_places_freed,
)
from services.capacity.settings import CapacitySettings
from tests.unit.capacity.conftest import NEXT_MONTH, NOW
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork
from tests.unit.capacity.test_inbound import AREA, INBOUND, ORGANISER, OWNER, announced

SETTINGS = CapacitySettings(handler_backoff_seconds=0)
_offsets = itertools.count()


def fresh_database() -> FakeCapacityUnitOfWork:
    """Two locations of the organiser: loc-a with room for three places (one of them
    already announced), loc-b with room for one (one child enrolled of two)."""
    uow = FakeCapacityUnitOfWork()
    for location_id, capacity in (("loc-a", 3), ("loc-b", 2)):
        uow.locations.locations[location_id] = Location(
            location_id=location_id, service_area=AREA, name=f"Opvang {location_id}",
            municipality_nis="13053", postcode="2430", capacity=capacity,
            subsidy_tier="plus", organiser_id=OWNER,
        )
    uow.places.places["known-1"] = FreePlace(
        place_id="known-1", location_id="loc-a", available_from=NEXT_MONTH,
        day_parts=("mon_am", "mon_pm"), min_age_months=6, max_age_months=30,
        source=PlaceSource.ORGANISER,
    )
    uow.enrolments.enrolments["enr-1"] = Enrolment(
        enrolment_id="enr-1", location_id="loc-b", day_parts=("mon_am", "mon_pm"),
        start_date=NEXT_MONTH,
    )
    return uow


def burst(*places: tuple[str, str], topic: str = INBOUND,
          **changes: Any) -> list[Delivered[PlaceFreed]]:
    """(place id, location id) pairs as they come in, each its own event."""
    run = []
    for place_id, location_id in places:
        data = announced(place_id, location_id=location_id, **changes)
        event = new_event(data, source=ORGANISER)
        run.append(Delivered(event, data, Origin(topic, 0, next(_offsets), None)))
    return run


# Fills both locations, with a known place and a repeated place id (also at another
# location: known places are known wherever they are).
VALID = (("a-1", "loc-a"), ("b-1", "loc-b"), ("known-1", "loc-a"), ("a-2", "loc-a"),
         ("a-1", "loc-a"), ("b-1", "loc-a"))


async def one_by_one(uow: FakeCapacityUnitOfWork, run: list[Delivered[PlaceFreed]]) -> None:
    for each in run:
        async with uow:
            await on_inbound_place_freed(each.event, each.data, uow, lambda: NOW, each.origin,
                                         SETTINGS)
            await uow.commit()


async def together(uow: FakeCapacityUnitOfWork, run: list[Delivered[PlaceFreed]]) -> None:
    async with uow:
        await on_inbound_places_freed(run, uow, lambda: NOW, SETTINGS)
        await uow.commit()


def effect(uow: FakeCapacityUnitOfWork) -> dict[str, object]:
    return {
        "places": uow.places.places,
        "published": [(e.type, e.subject, e.causationid, e.correlationid, e.data)
                      for e in uow.published],
        "audit": [(r.subject, r.role, r.action, r.object_type, r.object_id, r.service_area)
                  for r in uow.audit_trail.rows],
    }


async def test_a_run_has_the_effect_of_its_events_one_by_one() -> None:
    run = burst(*VALID)
    sequential, batched = fresh_database(), fresh_database()
    await one_by_one(sequential, run)
    await together(batched, run)
    assert effect(batched) == effect(sequential)
    assert [e.subject for e in batched.published] == ["a-1", "b-1", "a-2"]
    assert [e.causationid for e in batched.published] == [run[i].event.id for i in (0, 1, 3)]
    assert len(batched.audit_trail.rows) == len(run)  # skipped places are audited too


@pytest.mark.parametrize(("refused", "changes"), [
    pytest.param(("a-3", "loc-a"), {}, id="beyond-the-licence"),
    pytest.param(("b-2", "loc-b"), {}, id="second-place-counts-the-first"),
    pytest.param(("x-1", "loc-nowhere"), {}, id="unknown-location"),
    pytest.param(("a-3", "loc-a"), {"min_age_months": 40, "max_age_months": 48},
                 id="outside-the-ages"),
])
async def test_a_run_with_an_event_the_handler_refuses_raises_and_writes_nothing(
    refused: tuple[str, str], changes: dict[str, Any]
) -> None:
    uow = fresh_database()
    before = dict(uow.places.places)
    run = [*burst(*VALID), *burst(refused, **changes)]
    with pytest.raises(Exception):  # noqa: B017, PT011 - any error makes the consumer fall back
        await together(uow, run)
    assert uow.places.places == before
    assert (uow.published, uow.audit_trail.rows) == ([], [])


@pytest.mark.parametrize("topic", ["test-topic", organiser_inbound_topic("org-other")])
async def test_a_run_from_another_topic_than_the_owners_raises(topic: str) -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 - any error makes the consumer fall back
        await together(fresh_database(), burst(("a-1", "loc-a"), ("a-2", "loc-a"),
                                               topic=topic))


def consumer_over(uow: FakeCapacityUnitOfWork) -> tuple[FastAPI, RecordingDeadLetters]:
    dead_letters = RecordingDeadLetters()
    app = bootstrap(SETTINGS, uow_factory=lambda: uow, dead_letters=dead_letters,
                    clock=lambda: NOW)
    return app, dead_letters


def as_messages(run: list[Delivered[PlaceFreed]]) -> list[Incoming]:
    messages = []
    for each in run:
        key, value, headers = to_kafka(each.event)
        messages.append(Incoming(value, headers, each.origin))
    return messages


def counting(calls: list[str], method: Callable[[str], Any]) -> Callable[[str], Any]:
    async def counted(place_id: str) -> Any:
        calls.append(place_id)
        return await method(place_id)
    return counted


async def test_the_consumer_applies_a_batch_together(monkeypatch: pytest.MonkeyPatch) -> None:
    uow = fresh_database()
    lookups: list[str] = []  # the one-by-one handler looks each place up
    monkeypatch.setattr(uow.places, "exists", counting(lookups, uow.places.exists))
    app, dead_letters = consumer_over(uow)
    outcomes = await app.state.consumer.consume_batch(as_messages(burst(*VALID)))
    assert outcomes == ["applied"] * len(VALID)
    assert lookups == []
    assert [e.subject for e in uow.published] == ["a-1", "b-1", "a-2"]
    assert dead_letters.sent == []


async def test_a_refused_event_in_a_batch_ends_as_it_would_one_by_one() -> None:
    """The batch handler raises, the consumer applies the events one by one: only the
    refused place is dead-lettered, and the rest is as if each came alone."""
    run = burst(("a-1", "loc-a"), ("a-2", "loc-a"), ("a-3", "loc-a"), ("b-1", "loc-b"),
                ("a-1", "loc-a"))
    sequential, batched = fresh_database(), fresh_database()
    sequential_app, sequential_letters = consumer_over(sequential)
    outcomes = [await sequential_app.state.consumer.consume(m.value, m.headers, m.origin)
                for m in as_messages(run)]
    batched_app, batched_letters = consumer_over(batched)
    assert await batched_app.state.consumer.consume_batch(as_messages(run)) == outcomes
    assert outcomes == ["applied", "applied", "dead-lettered", "applied", "applied"]
    assert effect(batched) == effect(sequential)
    assert batched_letters.reasons == sequential_letters.reasons
    assert [e.subject for e in batched.published] == ["a-1", "a-2", "b-1"]


def test_events_for_the_batch_are_those_of_the_inbound_handler() -> None:
    """PlaceFreed reaches capacity only on organisers' inbound topics: the batch handler
    takes exactly the events `on_inbound_place_freed` takes."""
    assert EVENT_HANDLERS[PlaceFreed] is on_inbound_place_freed
    assert EVENT_BATCH_HANDLERS[PlaceFreed] is on_inbound_places_freed
