"""Organisers' events of every kind, interleaved as their systems send them over a year
(the throughput benchmark's generator, small), through capacity's real consumer on
PostgreSQL: in Kafka-sized batches they write exactly what they write one at a time,
and each batch locks its locations once, in one statement, instead of once per event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from contracts import CloudEvent, new_event
from contracts.topics import organiser_inbound_topic
from loketkit.testing import RecordingDeadLetters, deliver_batch, deliver_event
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS, bootstrap
from services.capacity.domain.model import Location
from services.capacity.settings import CapacitySettings
from tests.integration.bursts import counting, dump, migrated_database, outbox_kinds
from tools.bench.year_data import Year, generate_year
from tools.infra import Infra

pytestmark = pytest.mark.integration

BATCH = 100
TABLES = {
    "locations": "SELECT location_id, licensed_places, closed FROM locations "
                 "ORDER BY location_id",
    "places": "SELECT place_id, location_id, status, available_from FROM free_places "
              "ORDER BY place_id",
    "enrolments": "SELECT enrolment_id, location_id, start_date, ends_on, end_reason, "
                  "source FROM enrolments ORDER BY enrolment_id",
    "audit": "SELECT subject, action, object_type, object_id FROM audit_trail ORDER BY audit_id",
    "outbox": "SELECT headers::text FROM outbox ORDER BY id",
}


@pytest.fixture(scope="module")
def year() -> Year:
    return generate_year(20260501, scale=0.003)


async def capacity_over(infra: Infra, name: str, year: Year) -> AsyncIterator[FastAPI]:
    url = await migrated_database(infra, name, MIGRATIONS)
    area = year.events[0].data.service_area
    settings = CapacitySettings(
        database_url=url, handler_backoff_seconds=0, service_area=area,
        service_area_municipalities=",".join(sorted({m.nis for m in year.municipalities})))
    app = bootstrap(settings, dead_letters=RecordingDeadLetters())
    async with SqlCapacityUnitOfWork(app.state.infra.session_factory) as uow:
        for each in year.locations:
            assert await uow.locations.add(Location(
                location_id=each.location_id, service_area=area, name=each.name,
                municipality_nis=each.municipality_nis, postcode=each.postcode,
                capacity=each.capacity, subsidy_tier=each.subsidy_tier,
                organiser_id=each.organiser_id), registered_at=datetime.now(UTC))
        await uow.commit()
    yield app
    await app.state.infra.engine.dispose()


@pytest.fixture
async def one_by_one(infra: Infra, year: Year) -> AsyncIterator[FastAPI]:
    async for app in capacity_over(infra, "capacity_one_by_one", year):
        yield app


@pytest.fixture
async def batched(infra: Infra, year: Year) -> AsyncIterator[FastAPI]:
    async for app in capacity_over(infra, "capacity_batched", year):
        yield app


def per_organiser(year: Year) -> dict[str, list[CloudEvent]]:
    """Each organiser's events on its own topic, in the order its system sends them."""
    sent: dict[str, list[CloudEvent]] = {}
    for each in year.events:
        sent.setdefault(each.organiser_id, []).append(
            new_event(each.data, source=f"/organisers/{each.organiser_id}"))
    return sent


def location_locks(statements: list[str]) -> int:
    return sum(each.lstrip().startswith("SELECT") and "FROM locations" in each
               and "FOR UPDATE" in each for each in statements)


async def test_mixed_batches_write_what_one_event_at_a_time_writes_locking_each_once(
        one_by_one: FastAPI, batched: FastAPI, year: Year) -> None:
    sent = per_organiser(year)
    assert len({type(each.data) for each in year.events}) >= 5, "every kind of event"
    outcomes: list[str] = []
    with counting(one_by_one) as one_at_a_time:
        for organiser, events in sent.items():
            for made in events:
                outcomes.append(await deliver_event(
                    one_by_one.state.consumer, made, organiser_inbound_topic(organiser)))
    assert set(outcomes) == {"applied"}
    batches = 0
    with counting(batched) as statements:
        for organiser, events in sent.items():
            for start in range(0, len(events), BATCH):
                batches += 1
                assert set(await deliver_batch(
                    batched.state.consumer, events[start:start + BATCH],
                    organiser_inbound_topic(organiser))) == {"applied"}

    expected, found = await dump(one_by_one, TABLES), await dump(batched, TABLES)
    assert len(expected["places"]) > 20 and len(expected["enrolments"]) > 20
    for table in ("locations", "places", "enrolments", "audit"):
        assert found[table] == expected[table], table
    assert outbox_kinds(found["outbox"]) == outbox_kinds(expected["outbox"])
    assert location_locks(one_at_a_time) == len(outcomes)
    assert location_locks(statements) == batches, "one lock statement per batch"
    # 559 against 3,116 (921 before the unit kept open places, known place ids and the
    # enrolments it reads ahead for every location of the batch)
    assert len(statements) * 5 < len(one_at_a_time), (
        f"{len(statements)} statements in batches, {len(one_at_a_time)} one by one")

