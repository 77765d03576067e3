"""Organisers' PlaceFreed on loket.capacity.inbound.v1, through the real consumer
(inbox, dead letters) into the handler, in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import CAPACITY_INBOUND
from loketkit.consumer import EventConsumer, Origin
from services.capacity import handlers
from services.capacity.domain.model import Location
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

AREA = "kempen-gml"
NEXT_MONTH = datetime.now(UTC).date() + timedelta(days=30)


def announced(place_id: str = "org-17", **changes: Any) -> PlaceFreed:
    facts: dict[str, object] = {
        "service_area": AREA, "place_id": place_id, "location_id": "loc-a",
        "municipality_nis": "13053", "available_from": NEXT_MONTH, "min_age_months": 6,
        "max_age_months": 30, "freed_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    return PlaceFreed.model_validate(facts | changes)


class Harness:
    """An organiser's system on one side, capacity's consumer on the other."""

    def __init__(self) -> None:
        self.uow = FakeCapacityUnitOfWork()
        self.uow.locations.locations["loc-a"] = Location(
            location_id="loc-a", service_area=AREA, name="Onthaal De Kleine Beer",
            municipality_nis="13053", postcode="2430", capacity=8, subsidy_tier="plus",
        )
        self.dead: list[dict[str, str]] = []
        self.consumer = EventConsumer(
            "capacity", {PlaceFreed: handlers.on_inbound_place_freed},
            lambda: self.uow, self, backoff_seconds=0,
        )
        self.offset = 0

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.dead.append(headers)

    async def deliver(self, data: PlaceFreed) -> tuple[str, CloudEvent]:
        event = new_event(data, source="/organisers/kinderopvang-kempen")
        key, value, headers = to_kafka(event)
        self.offset += 1
        outcome = await self.consumer.consume(
            value, headers, Origin(CAPACITY_INBOUND.name, 0, self.offset, key)
        )
        return outcome, event


async def test_a_valid_announcement_is_republished_with_the_same_facts() -> None:
    harness = Harness()
    outcome, inbound = await harness.deliver(announced())
    assert outcome == "applied"
    [republished] = harness.uow.published
    assert harness.uow.published_data() == [announced()]
    assert republished.causationid == inbound.id
    assert republished.correlationid == inbound.correlationid
    assert republished.source == "/loket/capacity"


async def test_an_unknown_location_is_dead_lettered_naming_the_field() -> None:
    harness = Harness()
    outcome, _ = await harness.deliver(announced(location_id="loc-nowhere"))
    assert outcome == "dead-lettered"
    assert harness.dead[0]["dlq_reason"] == "field 'data.location_id': unknown location"
    assert harness.uow.published == []


async def test_a_repeated_place_id_publishes_nothing_more() -> None:
    harness = Harness()
    await harness.deliver(announced("org-17"))
    outcome, _ = await harness.deliver(announced("org-17"))  # a new event id, the same place
    assert outcome == "applied"
    assert len(harness.uow.published) == 1
    assert harness.dead == []


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
    changes: dict[str, Any], field: str
) -> None:
    harness = Harness()
    outcome, _ = await harness.deliver(announced(**changes))
    assert outcome == "dead-lettered"
    assert harness.dead[0]["dlq_reason"].startswith(f"field '{field}':")
    assert harness.dead[0]["dlq_original_topic"] == CAPACITY_INBOUND.name
    assert harness.uow.published == []


async def test_a_closed_or_full_location_rejects_announcements() -> None:
    harness = Harness()
    harness.uow.locations.locations["loc-a"].capacity = 1
    await harness.deliver(announced("org-1"))
    outcome, _ = await harness.deliver(announced("org-2"))
    assert outcome == "dead-lettered"
    assert harness.dead[-1]["dlq_reason"].startswith("field 'data.location_id':")
    harness.uow.locations.locations["loc-a"].closed = True
    await harness.deliver(announced("org-3"))
    assert "closed" in harness.dead[-1]["dlq_reason"]
    assert len(harness.uow.published) == 1
