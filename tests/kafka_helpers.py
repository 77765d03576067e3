"""Reading and writing the real topics from tests, as an outside system would.

The broker wants a signed-in principal: these sign in as the local admin (a super
user) unless told otherwise; a test that publishes as an organiser's system passes
that organiser's `security` and writes to its own inbound topic."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts import CloudEvent, EventData, from_kafka, parse_data
from loketkit.kafka_security import KafkaSecurity
from tools.infra.kafka_principals import ADMIN_SECURITY


@dataclass
class Record:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    def event(self) -> CloudEvent:
        return from_kafka(self.value, [(k, v.encode()) for k, v in self.headers.items()])

    def data(self) -> EventData:
        return parse_data(self.event())


async def publish_raw(bootstrap: str, topic: str, value: bytes, key: bytes = b"kempen-gml",
                      headers: list[tuple[str, bytes]] | None = None,
                      security: KafkaSecurity = ADMIN_SECURITY) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security.aiokafka())
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()


async def partition_ids(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **ADMIN_SECURITY.aiokafka())
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [partition["partition"] for partition in description["partitions"]]


async def collect(bootstrap: str, topic: str, match: Callable[[Record], bool],
                  until: Callable[[list[Record]], bool], wait_seconds: float = 60.0,
                  settle: float = 0.0) -> list[Record]:
    """Reads the whole topic from the start until `until(matching records)` holds,
    then keeps reading `settle` seconds more (to catch duplicates that would follow)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                client_id=f"test-{uuid.uuid4().hex[:6]}",
                                enable_auto_commit=False, **ADMIN_SECURITY.aiokafka())
    await consumer.start()
    found: list[Record] = []
    try:
        partitions = [TopicPartition(topic, p) for p in await partition_ids(bootstrap, topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + wait_seconds
        settled_at: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for raw in records:
                    record = Record(raw.topic, raw.key, raw.value,
                                    {k: v.decode("utf-8", "replace") for k, v in raw.headers})
                    if match(record):
                        found.append(record)
            if settled_at is None and until(found):
                settled_at = time.monotonic() + settle
            if settled_at is not None and time.monotonic() >= settled_at:
                return found
            await asyncio.sleep(0)
        raise TimeoutError(f"{topic}: condition not met in {wait_seconds:.0f}s; "
                           f"{len(found)} matching records")
    finally:
        await consumer.stop()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **ADMIN_SECURITY.aiokafka())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()
