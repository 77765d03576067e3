"""The outbox relay against the real broker and PostgreSQL, with loketkit alone (no service):
a row Kafka refuses for good is parked and the rest still leave, in order; retriable failures
keep the order; backlog metrics; pruning."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from contracts.topics import TopicSpec
from loketkit.db import (
    OutboxMessage,
    StoredAnswer,
)
from loketkit.relay import OutboxRelay
from tests.conftest import Servers
from tests.integration.scratch import scratch_database
from tests.kafka_helpers import collect, delete_topics
from tools.infra import ensure_topics
from tools.infra.kafka_principals import ADMIN_SECURITY

pytestmark = pytest.mark.integration

TOPIC = "loket.relaytest.v1"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture(scope="module")
async def outbox_db(servers: Servers) -> AsyncIterator[Sessions]:
    async with scratch_database(servers.admin_url, "relay_it") as (_, sessions):
        yield sessions


@pytest.fixture
async def sessions(outbox_db: Sessions) -> Sessions:
    async with outbox_db() as session, session.begin():
        await session.execute(text("TRUNCATE outbox, idempotency_keys"))
    return outbox_db


@pytest.fixture
async def prefix(servers: Servers) -> AsyncIterator[str]:
    """A topic namespace of this test's own: the relay publishes TOPIC under it."""
    name = f"it{uuid.uuid4().hex[:8]}."
    yield name
    await delete_topics(servers.bootstrap, [f"{name}{TOPIC}"])


async def create_topic(servers: Servers, prefix: str, **config: str) -> str:
    name = f"{prefix}{TOPIC}"
    await ensure_topics(servers.bootstrap, [TopicSpec(
        name=name, partitions=1, key="test", retention_ms=3_600_000,
        description="relay test topic", extra_config=config)])
    return name


async def add_rows(sessions: Sessions, values: Iterable[bytes],
                   created_at: datetime | None = None) -> list[str]:
    """Outbox rows in this order; returns their event ids."""
    ids = []
    async with sessions() as session, session.begin():
        for value in values:
            event_id = f"ev-{uuid.uuid4().hex}"
            ids.append(event_id)
            session.add(OutboxMessage(
                event_id=event_id, topic=TOPIC, key=b"kempen-gml", value=value,
                headers=[["ce_id", event_id]], created_at=created_at or datetime.now(UTC)))
    return ids


async def rows(sessions: Sessions, event_ids: list[str]) -> list[OutboxMessage]:
    async with sessions() as session:
        found = (await session.execute(select(OutboxMessage))).scalars().all()
    by_id = {row.event_id: row for row in found}
    return [by_id[event_id] for event_id in event_ids]


async def relay_until_settled(relay: OutboxRelay) -> None:
    for _ in range(20):
        if not await relay.relay_once():
            return
    raise AssertionError("the relay kept finding rows to settle")


async def published_ids(servers: Servers, topic: str, count: int) -> list[str]:
    found = await collect(servers.bootstrap, topic, match=lambda r: True,
                          until=lambda records: len(records) >= count, wait_seconds=30,
                          settle=0.5)
    return [record.headers["ce_id"] for record in found]


def metric(name: str, service: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"service": service})


def big(size: int) -> bytes:
    return b'{"x":"' + b"a" * size + b'"}'


async def test_a_row_too_large_for_the_producer_is_parked_and_the_rest_leave_in_order(
    servers: Servers, sessions: Sessions, prefix: str
) -> None:
    topic = await create_topic(servers, prefix)
    good1, too_large, good2 = await add_rows(sessions, [b"{}", big(2_000_000), b"{}"])
    relay = OutboxRelay(sessions, servers.bootstrap, "relay-it", topic_prefix=prefix,
                        security=ADMIN_SECURITY)
    await relay.start()
    try:
        assert await published_ids(servers, topic, 2) == [good1, good2]
        [good3] = await add_rows(sessions, [b"{}"])
        relay.wake()
        assert await published_ids(servers, topic, 3) == [good1, good2, good3]
    finally:
        await relay.stop()
    first, parked, second = await rows(sessions, [good1, too_large, good2])
    assert first.published_at and second.published_at and parked.published_at is None
    assert parked.parked_at is not None
    assert parked.park_reason and "MessageSizeTooLargeError" in parked.park_reason
    assert "value 2000008" in parked.park_reason
    assert "aaaa" not in parked.park_reason


async def test_a_row_the_broker_refuses_is_parked_and_the_rest_leave_in_order(
    servers: Servers, sessions: Sessions, prefix: str
) -> None:
    # The topic takes at most 2 KiB per batch: the producer sends, the broker refuses.
    topic = await create_topic(servers, prefix, **{"max.message.bytes": "2048"})
    good1, too_large, good2, good3 = await add_rows(
        sessions, [b"{}", big(10_000), b"{}", b"{}"])
    relay = OutboxRelay(sessions, servers.bootstrap, "relay-it-broker", topic_prefix=prefix,
                        security=ADMIN_SECURITY)
    await relay.start()
    try:
        await relay_until_settled(relay)
    finally:
        await relay.stop()
    assert await published_ids(servers, topic, 3) == [good1, good2, good3]
    parked = (await rows(sessions, [too_large]))[0]
    assert parked.parked_at is not None and parked.published_at is None
    assert parked.park_reason and "value 10008" in parked.park_reason


class Acked:
    """A delivery the broker acknowledged."""


class FlakyProducer:
    """Acknowledges every send, except that the chosen sends fail (from `send` itself or
    from the delivery) with the chosen errors; records what reached the broker."""

    def __init__(self, failures: dict[int, tuple[str, Exception]]) -> None:
        self.failures = failures  # send number -> ("send" | "delivery", error)
        self.sends = 0
        self.delivered: list[str] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, value: bytes, key: bytes,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future[Any]:
        self.sends += 1
        failure = self.failures.get(self.sends)
        if failure and failure[0] == "send":
            raise failure[1]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if failure:
            future.set_exception(failure[1])
        else:
            self.delivered.append(dict(headers)["ce_id"].decode())
            future.set_result(Acked())
        return future


async def test_a_retriable_failure_keeps_the_order_and_parks_nothing(
    sessions: Sessions,
) -> None:
    ids = await add_rows(sessions, [b"{}"] * 4)
    # The broker goes away at the second row; the fourth was acknowledged anyway.
    flaky = FlakyProducer({
        2: ("delivery", KafkaConnectionError()), 3: ("delivery", KafkaConnectionError())})
    producers = [flaky, FlakyProducer({})]
    relay = OutboxRelay(sessions, "unused:9092", "relay-it-retry",
                        producer_factory=lambda *_: producers.pop(0))
    assert await relay.relay_once() == 1
    first, *rest = await rows(sessions, ids)
    assert first.published_at is not None
    assert all(row.published_at is None and row.parked_at is None for row in rest)

    # A failed delivery means a fresh producer for the next round.
    [fresh] = producers
    await relay_until_settled(relay)
    assert fresh.delivered == ids[1:]
    assert all(row.published_at for row in await rows(sessions, ids))


async def test_a_refusal_from_send_itself_parks_only_that_row(sessions: Sessions) -> None:
    ids = await add_rows(sessions, [b"{}"] * 3)
    producer = FlakyProducer(
        {2: ("send", MessageSizeTooLargeError()), 3: ("send", MessageSizeTooLargeError())})
    relay = OutboxRelay(sessions, "unused:9092", "relay-it-send",
                        producer_factory=lambda *_: producer)
    await relay_until_settled(relay)
    assert producer.delivered == [ids[0], ids[2]]
    first, parked, last = await rows(sessions, ids)
    assert parked.parked_at and not parked.published_at
    assert first.published_at and last.published_at


async def test_backlog_age_and_parked_rows_are_metrics_per_service(sessions: Sessions) -> None:
    service = f"relay-it-{uuid.uuid4().hex[:6]}"
    relay = OutboxRelay(sessions, "unused:9092", service)
    await relay.refresh_metrics()
    assert metric("loket_outbox_backlog", service) == 0
    assert metric("loket_outbox_oldest_unpublished_age_seconds", service) == 0
    assert metric("loket_outbox_parked", service) == 0

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await add_rows(sessions, [b"{}"] * 2, created_at=an_hour_ago)
    [parked] = await add_rows(sessions, [b"{}"])
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE outbox SET parked_at = now(), park_reason = 'test' "
                                   "WHERE event_id = :id"), {"id": parked})
    # A new relay counts parked rows at once (then once a minute, or after it parks one).
    relay = OutboxRelay(sessions, "unused:9092", service)
    await relay.refresh_metrics()
    assert metric("loket_outbox_backlog", service) == 2
    age = metric("loket_outbox_oldest_unpublished_age_seconds", service)
    assert age is not None and 3590 < age < 3700
    assert metric("loket_outbox_parked", service) == 1


def test_the_last_batch_size_is_no_longer_exported_as_a_backlog() -> None:
    assert REGISTRY.get_sample_value("loket_outbox_batch_size", {"service": "relay-it"}) is None
    names = {metric.name for metric in REGISTRY.collect()}
    assert "loket_outbox_batch_size" not in names


async def test_pruning_forgets_idempotency_answers_after_a_day(sessions: Sessions) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        for key, age in (("old", timedelta(days=2)), ("fresh", timedelta(hours=1))):
            session.add(StoredAnswer(caller="c", key=key, fingerprint="f", status_code=201,
                                     body={}, created_at=now - age))
    relay = OutboxRelay(sessions, "unused:9092", "relay-it-prune")
    await relay.prune()
    async with sessions() as session:
        left = set((await session.execute(select(col(StoredAnswer.key)))).scalars())
    assert left == {"fresh"}


async def test_without_kafka_the_relay_starts_and_events_wait_in_the_outbox(
    sessions: Sessions,
) -> None:
    ids = await add_rows(sessions, [b"{}"])
    relay = OutboxRelay(sessions, "127.0.0.1:1", "relay-it-nokafka", poll_seconds=0.05)
    await relay.start()  # port 1 refuses: no exception, the service can take work
    await asyncio.sleep(0.3)
    await relay.stop()
    [row] = await rows(sessions, ids)
    assert row.published_at is None and row.parked_at is None
