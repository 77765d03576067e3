"""The consumer against the real broker: a database outage pauses the partition and
delivers the event again later (never dead-lettered), the dead-letter path bounds what
it copies, and consumer lag shows on /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import DEAD_LETTER, TopicSpec
from loketkit.consumer import EventConsumer
from loketkit.kafka import KafkaDeadLetters, subscribe
from loketkit.lag import ConsumerLagMonitor, subscribed_groups
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters
from tests.kafka_helpers import collect
from tests.unit.loketkit.test_transient import database_error
from tools.infra import Infra, ensure_topics
from tools.infra.kafka_principals import ADMIN_SECURITY

pytestmark = pytest.mark.integration


def place(place_id: str) -> PlaceFreed:
    return PlaceFreed(service_area="kempen-gml", place_id=place_id, location_id="loc-it",
                      municipality_nis="13053", available_from=date(2027, 9, 1),
                      min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC),
                      day_parts=["mon_am", "mon_pm"])


async def new_topic(infra: Infra, partitions: int = 2, **config: str) -> TopicSpec:
    topic = TopicSpec(name=f"loket.it.consumer.{uuid.uuid4().hex[:10]}", partitions=partitions,
                      key="area", retention_ms=3_600_000, description="consumer test topic",
                      extra_config=config)
    await ensure_topics(infra.bootstrap_servers, [topic])
    return topic


Message = tuple[int, bytes, list[tuple[str, bytes]]]  # partition, value, headers


async def publish(infra: Infra, topic: str, messages: list[Message],
                  max_request_size: int = 1_048_576) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap_servers, acks="all",
                                **ADMIN_SECURITY.aiokafka(),
                                max_request_size=max_request_size)
    await producer.start()
    try:
        for partition, value, headers in messages:
            await producer.send_and_wait(topic, value, key=b"kempen-gml", headers=headers,
                                         partition=partition)
    finally:
        await producer.stop()


def as_message(partition: int, event: CloudEvent) -> Message:
    _, value, headers = to_kafka(event)
    return partition, value, headers


async def eventually(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_a_database_outage_pauses_the_partition_with_growing_delays_and_never_dead_letters(
    infra: Infra, caplog: pytest.LogCaptureFixture,
) -> None:
    topic = await new_topic(infra, partitions=2)
    failures = 4
    attempts: list[float] = []
    applied: list[tuple[str, float]] = []

    async def starts_after_an_outage(event: CloudEvent, data: PlaceFreed, uow: object) -> None:
        if data.place_id.startswith("outage"):
            attempts.append(time.monotonic())
            if len(attempts) <= failures:  # "the database system is starting up"
                raise database_error(asyncpg.exceptions.CannotConnectNowError)
        applied.append((data.place_id, time.monotonic()))

    uow, letters = FakeUnitOfWork(), RecordingDeadLetters()
    consumer = EventConsumer("consumer-it", {PlaceFreed: starts_after_an_outage},
                             lambda: uow, letters, backoff_seconds=0)
    broker = KafkaBroker(infra.bootstrap_servers, security=ADMIN_SECURITY.faststream())
    subscribe(broker, [topic], consumer, f"it-{uuid.uuid4().hex[:8]}",
              redelivery_first_seconds=0.3, redelivery_max_seconds=10.0)
    outage = new_event(place("outage-1"), source="/test")
    await publish(infra, topic.name, [as_message(0, outage)])
    caplog.set_level(logging.WARNING, logger="loketkit")
    async with broker:
        await broker.start()
        await eventually(lambda: len(attempts) >= 2)
        # While partition 0 waits, partition 1 keeps flowing.
        await publish(infra, topic.name, [as_message(1, new_event(place("other-1"),
                                                                  source="/test"))])
        await eventually(lambda: any(name == "outage-1" for name, _ in applied))
        await asyncio.sleep(1.0)  # a wrongly repeated delivery would show up meanwhile

    assert [name for name, _ in applied].count("outage-1") == 1, "applied exactly once"
    assert uow.applied >= {(outage.source, outage.id)}
    assert letters.sent == [], "an outage is never dead-lettered"
    gaps = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert len(gaps) == failures
    # Each wait at least its scheduled delay (0.3, 0.6, 1.2, 2.4 s; a fetch adds a little).
    assert all(gap >= 0.9 * 0.3 * 2**n for n, gap in enumerate(gaps)), gaps
    assert gaps[-1] > 2.5 * gaps[0], gaps
    other_at = dict(applied)["other-1"]
    assert other_at < dict(applied)["outage-1"], "the other partition did not wait"
    pauses = [r for r in caplog.records if r.name == "loketkit.kafka"]
    assert len(pauses) == failures, "one line per pause"
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("loketkit"))
    assert all("57P03" in r.getMessage() and "paused" in r.getMessage() for r in pauses)


async def test_a_value_too_large_to_dead_letter_goes_without_it_and_the_partition_moves_on(
    infra: Infra,
) -> None:
    topic = await new_topic(infra, partitions=1, **{"max.message.bytes": "3000000"})
    marker = uuid.uuid4().hex
    applied: list[str] = []

    async def record(event: CloudEvent, data: PlaceFreed, uow: object) -> None:
        applied.append(data.place_id)

    broker = KafkaBroker(infra.bootstrap_servers, security=ADMIN_SECURITY.faststream())
    consumer = EventConsumer("consumer-it", {PlaceFreed: record}, FakeUnitOfWork,
                             KafkaDeadLetters(broker))
    subscribe(broker, [topic], consumer, f"it-{uuid.uuid4().hex[:8]}")
    huge = b"{" + marker.encode() + b"x" * 1_500_000
    after = new_event(place(f"after-{marker[:8]}"), source="/test")
    await publish(infra, topic.name, [(0, huge, [("ce_specversion", b"1.0"),
                                                 ("marker", marker.encode())]),
                                      as_message(0, after)], max_request_size=3_000_000)
    async with broker:
        await broker.start()
        [dead] = await collect(infra.bootstrap_servers, DEAD_LETTER.name,
                               match=lambda r: r.headers.get("marker") == marker,
                               until=lambda records: len(records) >= 1)
        await eventually(lambda: f"after-{marker[:8]}" in applied)
    assert dead.value in (None, b"")
    assert dead.headers["dlq_value_omitted"] == "true"
    assert dead.headers["dlq_original_topic"] == topic.name
    assert dead.headers["dlq_original_offset"] == "0"
    assert dead.headers["dlq_reason_kind"] == "malformed"


async def test_consumer_lag_per_topic_and_partition_is_a_gauge(infra: Infra) -> None:
    topic = await new_topic(infra, partitions=2)
    group = f"it-lag-{uuid.uuid4().hex[:8]}"
    value = b"{}"
    no_headers: list[tuple[str, bytes]] = []
    await publish(infra, topic.name, [(0, value, no_headers)] * 3 + [(1, value, no_headers)] * 2)
    monitor = ConsumerLagMonitor(infra.bootstrap_servers, "consumer-it",
                                 lambda: {group: [topic.name]}, security=ADMIN_SECURITY)
    lag = await monitor.refresh()
    assert lag == {TopicPartition(topic.name, 0): 3, TopicPartition(topic.name, 1): 2}
    assert REGISTRY.get_sample_value("loket_consumer_lag", {
        "service": "consumer-it", "topic": topic.name, "partition": "0"}) == 3

    committer = AIOKafkaConsumer(bootstrap_servers=infra.bootstrap_servers, group_id=group,
                                 enable_auto_commit=False, **ADMIN_SECURITY.aiokafka())
    await committer.start()
    try:
        committer.assign([TopicPartition(topic.name, 0)])
        await committer.commit({TopicPartition(topic.name, 0): 2})
    finally:
        await committer.stop()
    try:  # the second refresh reuses the monitor's connections
        lag = await monitor.refresh()
    finally:
        await monitor.stop()
    assert lag[TopicPartition(topic.name, 0)] == 1
    assert REGISTRY.get_sample_value("loket_consumer_lag", {
        "service": "consumer-it", "topic": topic.name, "partition": "0"}) == 1


def test_the_lag_monitor_finds_the_subscribed_groups_and_topics() -> None:
    broker = KafkaBroker()
    consumer = EventConsumer("consumer-it", {}, FakeUnitOfWork, RecordingDeadLetters())
    topic = TopicSpec(name="loket.x.v1", partitions=1, key="k", retention_ms=1,
                      description="x")
    subscribe(broker, [topic], consumer, "the-group", topic_prefix="demo.")
    assert subscribed_groups(broker) == {"the-group": ["demo.loket.x.v1"]}
