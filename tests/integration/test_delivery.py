"""Delivery rules against the real broker and PostgreSQL, with loketkit's own small
handler and unit of work (no service): inbox on source + id, batches in one
transaction, dead letters, the relay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import CAPACITY, DEAD_LETTER, TopicSpec
from loketkit.consumer import EventConsumer, Incoming, Origin
from loketkit.db import (
    OutboxMessage,
    ProcessedEvent,
)
from loketkit.kafka import KafkaDeadLetters, subscribe
from loketkit.relay import OutboxRelay
from loketkit.testing import RecordingDeadLetters
from loketkit.uow import SqlUnitOfWork
from tests.integration.scratch import scratch_database
from tests.kafka_helpers import collect, publish_raw
from tools.infra import Infra, ensure_topics
from tools.infra.kafka_principals import ADMIN_SECURITY

Sessions = async_sessionmaker[AsyncSession]
pytestmark = pytest.mark.integration

AREA = "kempen-gml"


class ItTable(SQLModel, registry=registry()):
    """The test's own tables besides the delivery tables."""


class Note(ItTable, table=True):
    """One row per place a handler saw: a second one for the same place fails."""

    __tablename__ = "consumer_notes"

    place_id: str = Field(primary_key=True, max_length=100)
    source: str = Field(max_length=255)


class NotesUnitOfWork(SqlUnitOfWork):
    transactions = 0  # committed, over all instances

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/consumer-it")

    async def _commit(self, events: list[CloudEvent]) -> None:
        await super()._commit(events)
        NotesUnitOfWork.transactions += 1


async def note_place(event: CloudEvent, data: PlaceFreed, uow: NotesUnitOfWork) -> None:
    uow.session.add(Note(place_id=data.place_id, source=event.source))
    uow.emit(data.model_copy(update={"place_id": f"{data.place_id}-again"}), caused_by=event)


def place(place_id: str) -> PlaceFreed:
    return PlaceFreed(service_area=AREA, place_id=place_id, location_id="loc-it",
                      municipality_nis="13053", available_from=date(2027, 9, 1),
                      min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC),
                      day_parts=["mon_am", "mon_pm"])


def incoming(event: CloudEvent, offset: int = 0) -> Incoming:
    key, value, headers = to_kafka(event)
    return Incoming(value, headers, Origin("t", 0, offset, key))


async def consume(consumer: EventConsumer, event: CloudEvent) -> str:
    message = incoming(event)
    return await consumer.consume(message.value, message.headers, message.origin)


@pytest.fixture(scope="module")
async def notes_db(infra: Infra) -> AsyncIterator[Sessions]:
    async with scratch_database(infra.admin_database_url, "consumer_it",
                                ItTable.metadata) as (_, sessions):
        yield sessions


def notes_consumer(notes_db: async_sessionmaker[AsyncSession],
                   letters: RecordingDeadLetters | None = None) -> EventConsumer:
    return EventConsumer("consumer-it", {PlaceFreed: note_place},
                         lambda: NotesUnitOfWork(notes_db), letters or RecordingDeadLetters(),
                         backoff_seconds=0, dead_letter_backoff_seconds=0)


async def notes(session_factory: async_sessionmaker[AsyncSession], *ids: str) -> set[str]:
    async with session_factory() as session:
        return set((await session.execute(
            select(col(Note.place_id)).where(col(Note.place_id).in_(ids)))).scalars())


async def test_inbox_applies_each_event_once_and_outbox_holds_its_effect(
    notes_db: Sessions,
) -> None:
    consumer = notes_consumer(notes_db)
    marker = uuid.uuid4().hex[:8]
    freed = new_event(place(f"p-{marker}"), source="/test")
    outcomes = [await consume(consumer, freed) for _ in range(2)]
    assert outcomes == ["applied", "duplicate"]
    async with notes_db() as session:
        caused = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.key) == AREA.encode()))).scalars().all()
        assert len([row for row in caused if dict(row.headers).get("ce_causationid")
                    == freed.id]) == 1
        applied = await session.scalar(select(func.count()).select_from(ProcessedEvent)
                                       .where(col(ProcessedEvent.event_id) == freed.id))
        assert applied == 1


async def test_the_same_id_from_two_sources_is_applied_twice_and_a_repeat_once(
    notes_db: Sessions,
) -> None:
    consumer = notes_consumer(notes_db)
    marker = uuid.uuid4().hex[:8]
    shared_id = f"1-{marker}"  # two organisers' systems that both number from 1
    first = new_event(place(f"a-{marker}"), source="/organiser/a").model_copy(
        update={"id": shared_id})
    second = new_event(place(f"b-{marker}"), source="/organiser/b").model_copy(
        update={"id": shared_id})
    outcomes = [await consume(consumer, e) for e in (first, second, first)]
    assert outcomes == ["applied", "applied", "duplicate"]
    assert await notes(notes_db, f"a-{marker}", f"b-{marker}") == {f"a-{marker}", f"b-{marker}"}


async def test_a_batch_is_one_transaction_with_one_inbox_row_per_event(notes_db: Sessions) -> None:
    consumer = notes_consumer(notes_db)
    marker = uuid.uuid4().hex[:8]
    events = [new_event(place(f"{n}-{marker}"), source="/test") for n in range(3)]
    batch = [incoming(e, n) for n, e in enumerate(events)] + [incoming(events[0], 9)]
    before = NotesUnitOfWork.transactions
    assert await consumer.consume_batch(batch) == ["applied"] * 3 + ["duplicate"]
    assert NotesUnitOfWork.transactions == before + 1
    async with notes_db() as session:
        rows = (await session.execute(select(ProcessedEvent).where(
            col(ProcessedEvent.event_id).in_([e.id for e in events])))).scalars().all()
        assert len(rows) == 3
        outbox = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.key) == AREA.encode()))).scalars().all()
        caused = {dict(row.headers).get("ce_causationid") for row in outbox}
        assert {e.id for e in events} <= caused
    assert await consumer.consume_batch(batch) == ["duplicate"] * 4


async def test_a_failing_event_rolls_the_batch_back_and_only_it_is_dead_lettered(
    notes_db: Sessions,
) -> None:
    letters = RecordingDeadLetters()
    consumer = notes_consumer(notes_db, letters)
    marker = uuid.uuid4().hex[:8]
    async with notes_db() as session, session.begin():
        session.add(Note(place_id=f"taken-{marker}", source="/test"))
    good = new_event(place(f"good-{marker}"), source="/test")
    bad = new_event(place(f"taken-{marker}"), source="/test")  # duplicate key on insert
    later = new_event(place(f"later-{marker}"), source="/test")
    outcomes = await consumer.consume_batch([incoming(good, 0), incoming(bad, 1),
                                             incoming(later, 2)])
    assert outcomes == ["applied", "dead-lettered", "applied"]
    assert [letter.headers["dlq_original_offset"] for letter in letters.sent] == ["1"]
    assert letters.sent[0].headers["dlq_error_type"] == "IntegrityError"
    assert await notes(notes_db, f"good-{marker}", f"later-{marker}") == {
        f"good-{marker}", f"later-{marker}"}


async def test_a_real_subscriber_dead_letters_garbage_and_keeps_consuming(
    notes_db: Sessions, infra: Infra
) -> None:
    topic = TopicSpec(name=f"loket.it.{uuid.uuid4().hex[:8]}", partitions=1, key="area",
                      retention_ms=3_600_000, description="integration test topic")
    await ensure_topics(infra.bootstrap_servers, [topic])
    broker = KafkaBroker(infra.bootstrap_servers, security=ADMIN_SECURITY.faststream())
    consumer = EventConsumer("consumer-it", {PlaceFreed: note_place},
                             lambda: NotesUnitOfWork(notes_db), KafkaDeadLetters(broker))
    subscribe(broker, [topic], consumer, f"it-{uuid.uuid4().hex[:8]}")
    marker = uuid.uuid4().hex
    good = new_event(place(f"p-{marker[:8]}"), source="/test")
    await publish_raw(infra.bootstrap_servers, topic.name, f"{{{marker}".encode(),
                      headers=[("ce_specversion", b"1.0")])
    _, value, headers = to_kafka(good)
    await publish_raw(infra.bootstrap_servers, topic.name, value, headers=headers)
    async with broker:
        await broker.start()
        [dead] = await collect(infra.bootstrap_servers, DEAD_LETTER.name,
                               match=lambda r: marker.encode() in (r.value or b""),
                               until=lambda records: len(records) >= 1)
        assert dead.headers["dlq_original_topic"] == topic.name
        assert dead.headers["dlq_original_offset"] == "0"
        assert dead.headers["dlq_reason_kind"] == "malformed"
        for _ in range(100):
            async with notes_db() as session:
                if await session.get(ProcessedEvent, (good.source, good.id)):
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the valid event after the garbage was never applied")


async def test_the_relay_publishes_committed_events_once_acknowledged(
    notes_db: Sessions, infra: Infra
) -> None:
    relay = OutboxRelay(notes_db, infra.bootstrap_servers, "consumer-it",
                        security=ADMIN_SECURITY)
    async with NotesUnitOfWork(notes_db) as uow:
        event = uow.emit(place(f"p-relay-{uuid.uuid4().hex[:8]}"))
        await uow.commit()
    await relay.start()
    try:
        found = await collect(infra.bootstrap_servers, CAPACITY.name,
                              match=lambda r: r.headers.get("ce_id") == event.id,
                              until=lambda records: len(records) >= 1)
    finally:
        await relay.stop()
    assert found[0].key == AREA.encode()
    async with notes_db() as session:
        row = (await session.execute(select(OutboxMessage).where(
            col(OutboxMessage.event_id) == event.id))).scalar_one()
        assert row.published_at is not None
        assert datetime.now(UTC) - row.published_at < timedelta(minutes=5)


async def test_published_outbox_rows_are_pruned_after_a_week_and_unsent_ones_never(
    notes_db: Sessions, infra: Infra
) -> None:
    relay = OutboxRelay(notes_db, infra.bootstrap_servers, "consumer-it",
                        security=ADMIN_SECURITY)
    now = datetime.now(UTC)
    ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("old", "recent", "unsent")}
    async with notes_db() as session, session.begin():
        for name, published in (("old", now - timedelta(days=8)),
                                ("recent", now - timedelta(days=1)), ("unsent", None)):
            session.add(OutboxMessage(event_id=ids[name], topic="loket.it.none", key=b"k",
                                      value=b"{}", headers=[], created_at=now - timedelta(days=9),
                                      published_at=published))
    assert await relay.prune_published() >= 1
    async with notes_db() as session:
        left = set((await session.execute(select(col(OutboxMessage.event_id)).where(
            col(OutboxMessage.event_id).in_(ids.values())))).scalars())
    assert left == {ids["recent"], ids["unsent"]}
