"""Organisers' PlaceFreed on loket.capacity.inbound.v1, through the real app's
consumer (inbox, dead letters) into the handler, in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import CAPACITY_INBOUND
from loketkit.testing import RecordingDeadLetters, deliver, deliver_raw
from services.capacity.domain.model import Location, PlaceSource
from tests.unit.capacity.conftest import NEXT_MONTH
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

AREA = "kempen-gml"
ORGANISER = "/organisers/kinderopvang-kempen"


def announced(place_id: str = "org-17", **changes: Any) -> PlaceFreed:
    facts: dict[str, object] = {
        "service_area": AREA, "place_id": place_id, "location_id": "loc-a",
        "municipality_nis": "13053", "available_from": NEXT_MONTH, "min_age_months": 6,
        "max_age_months": 30, "freed_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    return PlaceFreed.model_validate(facts | changes)


@pytest.fixture(autouse=True)
def known_location(uow: FakeCapacityUnitOfWork) -> Location:
    location = Location(
        location_id="loc-a", service_area=AREA, name="Onthaal De Kleine Beer",
        municipality_nis="13053", postcode="2430", capacity=8, subsidy_tier="plus",
    )
    uow.locations.locations["loc-a"] = location
    return location


async def from_organiser(app: FastAPI, data: PlaceFreed) -> tuple[str, CloudEvent]:
    """The announcement as it arrives on the inbound topic; returns what happened."""
    event = new_event(data, source=ORGANISER)
    key, value, headers = to_kafka(event)
    outcome = await deliver_raw(app.state.consumer, value, headers, key,
                                topic=CAPACITY_INBOUND.name)
    return outcome, event


async def test_a_valid_announcement_is_republished_with_the_same_facts(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    outcome, inbound = await from_organiser(app, announced())
    assert outcome == "applied"
    [republished] = uow.published
    assert uow.published_data() == [announced()]
    assert republished.causationid == inbound.id
    assert republished.correlationid == inbound.correlationid
    assert republished.source == "/loket/capacity"
    assert uow.places.places["org-17"].source is PlaceSource.ORGANISER


async def test_an_unknown_location_is_dead_lettered_naming_the_field(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    outcome = await deliver(app.state.consumer, announced(location_id="loc-nowhere"),
                            source=ORGANISER)
    assert outcome == "dead-lettered"
    assert dead_letters.reasons == ["field 'data.location_id': unknown location"]
    assert uow.published == []


async def test_a_repeated_place_id_publishes_nothing_more(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    await deliver(app.state.consumer, announced("org-17"), source=ORGANISER)
    # A new event id, the same place.
    outcome = await deliver(app.state.consumer, announced("org-17"), source=ORGANISER)
    assert outcome == "applied"
    assert len(uow.published) == 1
    assert dead_letters.sent == []


async def test_a_repeated_event_is_applied_once(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    event = new_event(announced(), source=ORGANISER)
    key, value, headers = to_kafka(event)
    outcomes = [await deliver_raw(app.state.consumer, value, headers, key) for _ in range(2)]
    assert outcomes == ["applied", "duplicate"]
    assert len(uow.published) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service_area": "antwerpen"}, "data.service_area"),
        ({"municipality_nis": "13008"}, "data.municipality_nis"),
        ({"max_age_months": 40}, "data.max_age_months"),
        ({"available_from": date(2020, 1, 1)}, "data.available_from"),
    ],
)
async def test_an_announcement_that_does_not_fit_the_location_is_rejected(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters,
    changes: dict[str, Any], field: str,
) -> None:
    outcome, _ = await from_organiser(app, announced(**changes))
    assert outcome == "dead-lettered"
    [letter] = dead_letters.sent
    assert letter.headers["dlq_reason"].startswith(f"field '{field}':")
    assert letter.headers["dlq_original_topic"] == CAPACITY_INBOUND.name
    assert uow.published == []


async def test_a_closed_or_full_location_rejects_announcements(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters,
    known_location: Location,
) -> None:
    known_location.capacity = 1
    await deliver(app.state.consumer, announced("org-1"), source=ORGANISER)
    outcome = await deliver(app.state.consumer, announced("org-2"), source=ORGANISER)
    assert outcome == "dead-lettered"
    assert dead_letters.reasons[-1].startswith("field 'data.location_id':")
    known_location.closed = True
    await deliver(app.state.consumer, announced("org-3"), source=ORGANISER)
    assert "closed" in dead_letters.reasons[-1]
    assert len(uow.published) == 1
