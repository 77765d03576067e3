"""A batch from the real broker with one poison message in it, through the real Kafka
subscriber (`loketkit.kafka.subscribe`) and PostgreSQL: exactly that message goes to the
dead-letter topic (with its original topic, partition and offset), every other one is
applied exactly once, and the offsets committed are exact: a new subscriber in the same
group reads on from the next message, repeating none and skipping none.

The poison is either refused by the domain (`RejectedEvent`: dead-lettered at once) or
a handler that fails for good (a database constraint, retried, then dead-lettered),
halfway through one partition, with good messages before and after it on both
partitions. Everything is on the topic before the subscriber starts, so it reads them
in as few fetches as the broker allows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import DEAD_LETTER, TopicSpec
from loketkit.consumer import EventConsumer, RejectedEvent
from loketkit.db import ProcessedEvent
from loketkit.kafka import KafkaDeadLetters, subscribe
from loketkit.uow import SqlUnitOfWork
from tests.integration.scratch import scratch_database
from tests.kafka_helpers import collect
from tools.infra import Infra, ensure_topics
from tools.infra.kafka_principals import ADMIN_SECURITY

Sessions = async_sessionmaker[AsyncSession]
pytestmark = pytest.mark.integration

AREA = "kempen-gml"
BEFORE, AFTER, OTHER_PARTITION = 6, 6, 12  # good messages around the poison; on partition 0
POISON_PARTITION = 1
MAX_ATTEMPTS = 3


class BatchTable(SQLModel, registry=registry()):
    """This test's own tables besides the delivery tables (inbox, outbox)."""


class Application(BatchTable, table=True):
    """One row each time a handler's effect was kept: two for one place = applied twice."""

    __tablename__ = "batch_applications"

    id: int | None = Field(default=None, primary_key=True)
    place_id: str = Field(index=True, max_length=100)
    event_id: str = Field(max_length=100)


class Taken(BatchTable, table=True):
    """Place ids a handler may not take again (the failing poison's is taken already)."""

    __tablename__ = "batch_taken"

    place_id: str = Field(primary_key=True, max_length=100)


class BatchUnitOfWork(SqlUnitOfWork):
    def __init__(self, session_factory: Sessions) -> None:
        super().__init__(session_factory, source="/loket/batch-it")


class Handler:
    """Applies a free place; counts its calls (kept or rolled back) per place."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def __call__(self, event: CloudEvent, data: PlaceFreed, uow: BatchUnitOfWork) -> None:
        self.calls[data.place_id] += 1
        if data.place_id.startswith("rejected-"):
            raise RejectedEvent("field 'data.location_id': refused by this test")
        uow.session.add(Application(place_id=data.place_id, event_id=event.id))
        if data.place_id.startswith("failing-"):
            uow.session.add(Taken(place_id=data.place_id))  # taken already: IntegrityError


def place(place_id: str) -> PlaceFreed:
    return PlaceFreed(service_area=AREA, place_id=place_id, location_id="loc-batch-it",
                      municipality_nis="13053", available_from=date(2027, 9, 1),
                      min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC),
                      day_parts=["mon_am", "mon_pm"])


@pytest.fixture(scope="module")
async def batch_db(infra: Infra) -> AsyncIterator[Sessions]:
    async with scratch_database(infra.admin_database_url, "batch_it",
                                BatchTable.metadata) as (_, sessions):
        yield sessions


async def new_topic(infra: Infra) -> TopicSpec:
    topic = TopicSpec(name=f"loket.it.batch.{uuid.uuid4().hex[:10]}", partitions=2,
                      key="area", retention_ms=3_600_000, description="batch delivery test")
    await ensure_topics(infra.bootstrap_servers, [topic])
    return topic


async def publish(infra: Infra, topic: str, messages: list[tuple[int, CloudEvent]]
                  ) -> list[int]:
    """Publishes (partition, event) in order; returns each message's offset."""
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, acks="all",
                                **ADMIN_SECURITY.aiokafka())
    await producer.start()
    try:
        offsets = []
        for partition, event in messages:
            key, value, headers = to_kafka(event)
            sent = await producer.send_and_wait(topic, value, key=key, headers=list(headers),
                                                partition=partition)
            offsets.append(sent.offset)
        return offsets
    finally:
        await producer.stop()


async def eventually(condition: Callable[[], Awaitable[bool]], what: str,
                     seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f}s: {what}")
        await asyncio.sleep(0.1)


async def applications(batch_db: Sessions, place_ids: list[str]) -> Counter[str]:
    async with batch_db() as session:
        rows = (await session.execute(select(col(Application.place_id)).where(
            col(Application.place_id).in_(place_ids)))).scalars().all()
    return Counter(rows)


async def inbox_rows(batch_db: Sessions, events: list[CloudEvent]) -> int:
    async with batch_db() as session:
        return int(await session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(
                col(ProcessedEvent.source) == "/test",
                col(ProcessedEvent.event_id).in_([e.id for e in events]))) or 0)


async def committed(infra: Infra, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap_servers,
                                **ADMIN_SECURITY.aiokafka())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def subscriber(infra: Infra, batch_db: Sessions, handler: Handler, topic: TopicSpec,
               group: str) -> KafkaBroker:
    broker = KafkaBroker(infra.bootstrap_servers, security=ADMIN_SECURITY.faststream())
    consumer = EventConsumer("batch-it", {PlaceFreed: handler},
                             lambda: BatchUnitOfWork(batch_db), KafkaDeadLetters(broker),
                             max_attempts=MAX_ATTEMPTS, backoff_seconds=0,
                             dead_letter_backoff_seconds=0)
    subscribe(broker, [topic], consumer, group,
              redelivery_first_seconds=0.3, redelivery_max_seconds=5.0)
    return broker


@pytest.mark.parametrize(("poison", "kind", "error", "attempts"), [
    ("rejected", "rejected", "RejectedEvent", "1"),
    ("failing", "handler_failed", "IntegrityError", str(MAX_ATTEMPTS)),
])
async def test_one_poison_message_in_a_batch_is_dead_lettered_alone_and_the_rest_applied_once(
    infra: Infra, batch_db: Sessions, poison: str, kind: str, error: str, attempts: str,
) -> None:
    topic = await new_topic(infra)
    group = f"it-batch-{uuid.uuid4().hex[:8]}"
    marker = uuid.uuid4().hex[:8]
    if poison == "failing":
        async with batch_db() as session, session.begin():
            session.add(Taken(place_id=f"failing-{marker}"))

    def good(n: int) -> CloudEvent:
        return new_event(place(f"good-{marker}-{n}"), source="/test")

    bad = new_event(place(f"{poison}-{marker}"), source="/test")
    goods = [good(n) for n in range(BEFORE + AFTER + OTHER_PARTITION)]
    # Both partitions interleaved: partition 0 all good; partition 1 good, the poison, good.
    on_poison_partition = goods[:BEFORE] + [bad] + goods[BEFORE:BEFORE + AFTER]
    messages: list[tuple[int, CloudEvent]] = []
    for n in range(max(len(on_poison_partition), OTHER_PARTITION)):
        if n < OTHER_PARTITION:
            messages.append((0, goods[BEFORE + AFTER + n]))
        if n < len(on_poison_partition):
            messages.append((POISON_PARTITION, on_poison_partition[n]))
    offsets = await publish(infra, topic.name, messages)
    poison_offset = offsets[next(i for i, (_, e) in enumerate(messages) if e is bad)]
    good_ids = [str(e.data["place_id"]) for e in goods]

    handler = Handler()
    broker = subscriber(infra, batch_db, handler, topic, group)
    async with broker:
        await broker.start()
        dead = await collect(infra.bootstrap_servers, DEAD_LETTER.name,
                             match=lambda r: r.headers.get("dlq_original_topic") == topic.name,
                             until=lambda found: len(found) >= 1, settle=3.0)

        async def all_good_applied() -> bool:
            return len(await applications(batch_db, good_ids)) == len(good_ids)

        await eventually(all_good_applied, "every good message applied")

        async def all_committed() -> bool:
            return await committed(infra, group, topic.name) == {
                0: OTHER_PARTITION, POISON_PARTITION: BEFORE + 1 + AFTER}

        await eventually(all_committed, "offsets committed past every message, the poison too")

    [letter] = dead
    assert letter.value == to_kafka(bad)[1], "the poison itself, as it was"
    assert letter.headers["ce_id"] == bad.id
    assert letter.headers["dlq_original_topic"] == topic.name
    assert letter.headers["dlq_original_partition"] == str(POISON_PARTITION)
    assert letter.headers["dlq_original_offset"] == str(poison_offset) == str(BEFORE)
    assert letter.headers["dlq_reason_kind"] == kind
    assert letter.headers["dlq_error_type"] == error
    assert letter.headers["dlq_attempts"] == attempts
    assert letter.headers["dlq_service"] == "batch-it"

    applied = await applications(batch_db, [*good_ids, f"{poison}-{marker}"])
    assert applied == Counter(good_ids), "each good message applied once, the poison never"
    assert await inbox_rows(batch_db, goods) == len(goods)
    assert await inbox_rows(batch_db, [bad]) == 0, "a dead letter is not marked applied"

    # The offsets are exact: a new subscriber in the group reads on from the next message.
    calls_before = handler.calls.copy()
    after = new_event(place(f"after-{marker}"), source="/test")
    [after_offset] = await publish(infra, topic.name, [(POISON_PARTITION, after)])
    assert after_offset == BEFORE + 1 + AFTER
    again = subscriber(infra, batch_db, handler, topic, group)
    async with again:
        await again.start()

        async def after_applied() -> bool:
            return (await applications(batch_db, [f"after-{marker}"]))[f"after-{marker}"] == 1

        await eventually(after_applied, "the message after the batch is applied")
        await asyncio.sleep(1.0)  # a repeat of an earlier message would show up meanwhile
    assert handler.calls - calls_before == Counter({f"after-{marker}": 1}), (
        "nothing read again, nothing skipped")
    assert await committed(infra, group, topic.name) == {
        0: OTHER_PARTITION, POISON_PARTITION: BEFORE + 1 + AFTER + 1}
    still = await collect(infra.bootstrap_servers, DEAD_LETTER.name,
                          match=lambda r: r.headers.get("dlq_original_topic") == topic.name,
                          until=lambda found: len(found) >= 1, settle=1.0)
    assert len(still) == 1, "no further dead letter"
