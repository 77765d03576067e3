"""A burst of organisers' PlaceFreed through capacity's real consumer on PostgreSQL: one
Kafka batch is a handful of SQL statements however many places it holds (the batch
handler reads and writes set-wise), with one inbox row and one outbox event per
place, in order; a batch holding a refused place is rolled back and applied one by
one, so only that place is dead-lettered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from contracts import CloudEvent, from_kafka, new_event, parse_data
from contracts.events import DeclaredEnrolment, EnrolmentsDeclared, PlaceFreed
from contracts.topics import organiser_inbound_topic
from loketkit import migrations
from loketkit.audit import AuditRow
from loketkit.db import OutboxMessage, ProcessedEvent, make_engine, make_session_factory
from loketkit.testing import RecordingDeadLetters, deliver_batch
from services.capacity.adapters.orm import FreePlaceRecord
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS, bootstrap
from services.capacity.domain.model import (
    Enrolment,
    EnrolmentSource,
    FreePlace,
    Location,
    PlaceSource,
    PlaceStatus,
)
from services.capacity.settings import CapacitySettings
from tools.infra import Infra

pytestmark = pytest.mark.integration

AREA = "kempen-gml"
OWNER = "org-batch"
INBOUND = organiser_inbound_topic(OWNER)
NEXT_MONTH = date.today() + timedelta(days=30)
BURST = 50


@dataclass
class Capacity:
    app: FastAPI
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dead_letters: RecordingDeadLetters

    async def locations(self, count: int, capacity: int) -> list[str]:
        """New locations of the organiser, for this test alone."""
        ids = [f"loc-{uuid.uuid4().hex[:8]}" for _ in range(count)]
        async with SqlCapacityUnitOfWork(self.sessions) as uow:
            for location_id in ids:
                assert await uow.locations.add(Location(
                    location_id=location_id, service_area=AREA, name="Batch",
                    municipality_nis="13008", postcode="2440", capacity=capacity,
                    subsidy_tier="plus", organiser_id=OWNER,
                ), registered_at=datetime.now(UTC))
            await uow.commit()
        return ids

    async def scalars(self, query: Any) -> list[Any]:
        async with self.sessions() as session:
            return list(await session.scalars(query))


@pytest.fixture(scope="module")
async def capacity(infra: Infra) -> AsyncIterator[Capacity]:
    url = infra.database_urls["capacity"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(
            "TRUNCATE closures, enrolments, offers, free_places, locations, outbox, "
            "processed_events"))
    sessions = make_session_factory(engine)
    dead_letters = RecordingDeadLetters()
    app = bootstrap(
        CapacitySettings(database_url=url, handler_backoff_seconds=0),
        uow_factory=lambda: SqlCapacityUnitOfWork(sessions),
        dead_letters=dead_letters,
    )
    yield Capacity(app, engine, sessions, dead_letters)
    await engine.dispose()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement sent to the database meanwhile (an executemany counts once)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def freed(place_id: str, location_id: str) -> CloudEvent:
    return new_event(PlaceFreed(
        service_area=AREA, place_id=place_id, location_id=location_id,
        municipality_nis="13008", available_from=NEXT_MONTH, day_parts=["mon_am", "tue_am"],
        min_age_months=6, max_age_months=30,
        freed_at=datetime.now(UTC),
    ), source=f"/organisers/{OWNER}")


def freed_data(event: CloudEvent) -> PlaceFreed:
    data = parse_data(event)
    assert isinstance(data, PlaceFreed)
    return data


async def outbox_since(capacity: Capacity, last_id: int) -> list[CloudEvent]:
    rows = await capacity.scalars(
        select(OutboxMessage).where(col(OutboxMessage.id) > last_id)
        .order_by(col(OutboxMessage.id)))
    return [from_kafka(row.value, [(name, raw.encode()) for name, raw in row.headers])
            for row in rows]


async def last_outbox_id(capacity: Capacity) -> int:
    [last] = await capacity.scalars(select(func.coalesce(func.max(OutboxMessage.id), 0)))
    return int(last)


async def test_a_burst_of_free_places_is_a_few_statements_with_every_effect_in_order(
    capacity: Capacity,
) -> None:
    locations = await capacity.locations(3, capacity=BURST)
    events = [freed(f"p-{uuid.uuid4().hex[:8]}-{n}", locations[n % 3]) for n in range(BURST)]
    place_ids = [freed_data(each).place_id for each in events]
    last_id = await last_outbox_id(capacity)

    with statements(capacity.engine) as sent:
        outcomes = await deliver_batch(capacity.app.state.consumer, events, topic=INBOUND)

    assert outcomes == ["applied"] * BURST
    assert len(sent) < 15, sent  # one by one, it is ~8 statements per place
    assert sum("FOR UPDATE" in each for each in sent) == 1  # the run's locations, at once
    stored = await capacity.scalars(
        select(FreePlaceRecord).where(col(FreePlaceRecord.location_id).in_(locations)))
    assert sorted(p.place_id for p in stored) == sorted(place_ids)
    assert {p.place_id: p.location_id for p in stored} == {
        freed_data(e).place_id: freed_data(e).location_id
        for e in events}
    inbox = await capacity.scalars(select(col(ProcessedEvent.event_id)).where(
        col(ProcessedEvent.event_id).in_([e.id for e in events])))
    assert sorted(inbox) == sorted(e.id for e in events)
    published = await outbox_since(capacity, last_id)
    assert [freed_data(e).place_id for e in published] == place_ids
    assert [e.causationid for e in published] == [e.id for e in events]
    audited = await capacity.scalars(select(func.count()).select_from(AuditRow).where(
        col(AuditRow.object_id).in_(locations)))
    assert audited == [BURST]  # one record per event, as one by one


async def test_a_refused_place_in_a_burst_is_dead_lettered_alone(capacity: Capacity) -> None:
    """Two places fill the location, the third is refused: the batch rolls back on
    PostgreSQL and is applied one by one."""
    [location] = await capacity.locations(1, capacity=2)
    events = [freed(f"r-{uuid.uuid4().hex[:8]}-{n}", location) for n in range(4)]
    events[3] = freed(freed_data(events[0]).place_id, location)
    last_id = await last_outbox_id(capacity)
    letters_before = len(capacity.dead_letters.sent)

    outcomes = await deliver_batch(capacity.app.state.consumer, events, topic=INBOUND)

    assert outcomes == ["applied", "applied", "dead-lettered", "applied"]
    [letter] = capacity.dead_letters.sent[letters_before:]
    assert letter.headers["dlq_reason_kind"] == "rejected"
    stored = await capacity.scalars(select(col(FreePlaceRecord.place_id)).where(
        col(FreePlaceRecord.location_id) == location))
    first_two = [freed_data(e).place_id for e in events[:2]]
    assert sorted(stored) == sorted(first_two)
    published = await outbox_since(capacity, last_id)
    assert [e.causationid for e in published] == [e.id for e in events[:2]]
    inbox = await capacity.scalars(select(func.count()).select_from(ProcessedEvent).where(
        col(ProcessedEvent.event_id).in_([e.id for e in events])))
    assert inbox == [3]  # the dead-lettered one is not applied


async def test_a_place_freed_after_a_declaration_in_its_batch_counts_the_declared_children(
    capacity: Capacity,
) -> None:
    """The batch reads the location's children ahead; the declaration before the place
    fills the location, so the place is refused, as it would be one event at a time."""
    [location] = await capacity.locations(1, capacity=2)
    declared = new_event(EnrolmentsDeclared(
        service_area=AREA, location_id=location, municipality_nis="13008",
        enrolments=[DeclaredEnrolment(enrolment_id=f"d-{uuid.uuid4().hex[:8]}-{n}",
                                      start_date=NEXT_MONTH - timedelta(days=60),
                                      day_parts=["mon_am", "tue_am"]) for n in range(2)],
        declared_at=datetime.now(UTC)), source=f"/organisers/{OWNER}")
    place = freed(f"f-{uuid.uuid4().hex[:8]}", location)

    outcomes = await deliver_batch(capacity.app.state.consumer, [declared, place],
                                   topic=INBOUND)

    assert outcomes == ["applied", "dead-lettered"]
    assert await capacity.scalars(select(col(FreePlaceRecord.place_id)).where(
        col(FreePlaceRecord.location_id) == location)) == []


async def test_the_set_wise_reads_agree_with_the_one_location_reads(capacity: Capacity) -> None:
    a, b, other = await capacity.locations(3, capacity=5)
    tag = uuid.uuid4().hex[:8]
    now = datetime.now(UTC)
    async with SqlCapacityUnitOfWork(capacity.sessions) as uow:
        await uow.places.add_all([
            FreePlace(place_id=f"{tag}-{n}", location_id=where, available_from=NEXT_MONTH,
                      day_parts=("mon_am",), min_age_months=6, max_age_months=30,
                      source=PlaceSource.ORGANISER)
            for n, where in enumerate([a, b, a, other, b])
        ], recorded_at=now)
        await uow.places.set_status(f"{tag}-2", PlaceStatus.CANCELLED)
        for n, (where, start) in enumerate([(a, 9), (b, 3), (a, 1), (other, 2)]):
            await uow.enrolments.add(Enrolment(
                enrolment_id=f"{tag}-e{n}", location_id=where, day_parts=("tue_am",),
                start_date=NEXT_MONTH + timedelta(days=start)))
        await uow.commit()
    async with SqlCapacityUnitOfWork(capacity.sessions) as uow:
        many = await uow.locations.get_many([b, "loc-nowhere", a, b])
        assert many == [await uow.locations.get(each) for each in sorted([a, b])]
        assert {each.location_id: each.open_free_places for each in many} == {a: 1, b: 2}
        assert await uow.places.known_among([f"{tag}-0", f"{tag}-2", "nowhere"]) == {
            f"{tag}-0", f"{tag}-2"}
        open_places = await uow.places.open_at(a) + await uow.places.open_at(b)
        assert await uow.places.open_at_locations([a, b]) == sorted(
            open_places, key=lambda p: p.place_id)
        enrolled = await uow.enrolments.at_location(a) + await uow.enrolments.at_location(b)
        assert await uow.enrolments.at_locations([a, b]) == sorted(
            enrolled, key=lambda e: (e.start_date, e.enrolment_id))


async def test_children_read_in_a_unit_stay_true_to_its_own_writes(capacity: Capacity) -> None:
    a, b = await capacity.locations(2, capacity=5)
    tag = uuid.uuid4().hex[:8]
    first = Enrolment(enrolment_id=f"{tag}-1", location_id=a, day_parts=("mon_am",),
                      start_date=NEXT_MONTH)
    async with SqlCapacityUnitOfWork(capacity.sessions) as uow:
        assert await uow.enrolments.at_locations([a, b]) == []  # read, and kept
        await uow.enrolments.add(first)
        ended = first.end(NEXT_MONTH + timedelta(days=7), "left")
        await uow.enrolments.save(ended)
        declared = Enrolment(enrolment_id=f"{tag}-2", location_id=b, day_parts=("tue_am",),
                             start_date=NEXT_MONTH, source=EnrolmentSource.DECLARED)
        await uow.enrolments.replace_declared(b, [declared])
        kept = await uow.enrolments.at_locations([a, b])
        await uow.commit()
    async with SqlCapacityUnitOfWork(capacity.sessions) as uow:
        assert kept == await uow.enrolments.at_locations([a, b]) == [ended, declared]
