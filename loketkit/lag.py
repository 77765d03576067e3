"""Consumer lag on /metrics: per input topic and partition, how many messages the
service's consumer group has not yet committed (end offset minus committed offset;
a partition without a commit counts from its beginning, as the group would start
there). Refreshed periodically from the broker, so it also shows a stopped or
stuck consumer, and a partition paused while the database is away.

A subscriber that reads a topic family by pattern (organisers' inbound topics)
reports its regular expression: the topics it covers are looked up on each
refresh. The monitor signs in as the service (describe on its topics and group).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from prometheus_client import Gauge

from loketkit.kafka_security import PLAINTEXT, KafkaSecurity
from loketkit.transient import describe

log = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "loket_consumer_lag",
    "Messages in an input partition not yet consumed and committed by the service",
    ["service", "topic", "partition"],
)

# consumer group -> its topics (names, or one anchored regex `^...$` for a pattern)
Groups = Callable[[], Mapping[str, Sequence[str]]]


def subscribed_groups(broker: KafkaBroker) -> dict[str, list[str]]:
    """The consumer groups of a broker's subscribers and the topics each reads."""
    groups: dict[str, list[str]] = {}
    for subscriber in broker.subscribers:
        group_id = getattr(subscriber, "group_id", None)
        topics = list(getattr(subscriber, "topic_names_for_subscribe", None) or [])
        pattern = getattr(subscriber, "pattern", None)  # a topic family, by regex
        if pattern:
            topics.append(pattern.broker_address)
        if group_id and topics:
            groups.setdefault(group_id, []).extend(topics)
    return groups


def is_pattern(topic: str) -> bool:
    """Topic names cannot hold `^`: a subscriber's pattern can."""
    return topic.startswith("^")


def resolve(topics: Sequence[str], existing: Sequence[str]) -> list[str]:
    """Names as given; patterns as the existing topics they match."""
    names = [topic for topic in topics if not is_pattern(topic)]
    for pattern in filter(is_pattern, topics):
        names += sorted(name for name in existing
                        if re.fullmatch(pattern, name) and name not in names)
    return names


class ConsumerLagMonitor:
    def __init__(self, bootstrap_servers: str, service: str, groups: Groups,
                 interval_seconds: float = 10.0, security: KafkaSecurity = PLAINTEXT) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._service = service
        self._groups = groups
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        """Kept open between refreshes: each new connection costs a SASL handshake
        (a salted-password derivation), which is not free on a busy machine."""
        if self._admin is None or self._offsets is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap,
                                        client_id=f"loket-{self._service}-lag",
                                        **self._security.aiokafka())
            offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                       client_id=f"loket-{self._service}-lag",
                                       **self._security.aiokafka())
            try:
                await admin.start()
                await offsets.start()
            except BaseException:
                await self._close(admin, offsets)
                raise
            self._admin, self._offsets = admin, offsets
        return self._admin, self._offsets

    @staticmethod
    async def _close(admin: AIOKafkaAdminClient | None,
                     offsets: AIOKafkaConsumer | None) -> None:
        if offsets is not None:
            with contextlib.suppress(Exception):
                await offsets.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()

    async def refresh(self) -> dict[TopicPartition, int]:
        """Read committed and end offsets once and set the gauge; returns the lag."""
        groups = {group: list(topics) for group, topics in self._groups().items() if topics}
        if not groups:
            return {}
        admin, offsets = await self._clients()
        try:
            lag = await self._read(admin, offsets, groups)
        except BaseException:
            # Start over with fresh connections next time (the broker may have moved).
            await self._close(admin, offsets)
            self._admin = self._offsets = None
            raise
        for partition, value in lag.items():
            CONSUMER_LAG.labels(self._service, partition.topic, str(partition.partition)).set(
                value)
        return lag

    @staticmethod
    async def _read(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer,
                    groups: dict[str, list[str]]) -> dict[TopicPartition, int]:
        lag: dict[TopicPartition, int] = {}
        if any(is_pattern(topic) for topics in groups.values() for topic in topics):
            existing = await admin.list_topics()
            groups = {group: resolve(topics, existing) for group, topics in groups.items()}
        for group, topics in groups.items():
            if not topics:
                continue
            described = await admin.describe_topics(topics)
            partitions = [TopicPartition(topic["topic"], p["partition"])
                          for topic in described if not topic["error_code"]
                          for p in topic["partitions"]]
            if not partitions:
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            ends = await offsets.end_offsets(partitions)
            beginnings = await offsets.beginning_offsets(partitions)
            for partition in partitions:
                done = committed.get(partition)
                start = done.offset if done is not None and done.offset >= 0 else (
                    beginnings[partition])
                lag[partition] = max(ends[partition] - start, 0)
        return lag

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self._service}-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close(self._admin, self._offsets)
        self._admin = self._offsets = None

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                # Bounded: a refresh must not hang on a broker that does not answer.
                await asyncio.wait_for(self.refresh(), timeout=max(self._interval * 3, 30.0))
                failing = False
            except Exception as error:  # noqa: BLE001 - a broker outage must not end the loop
                if not failing:  # one line per outage, not one per refresh
                    log.warning("%s: consumer lag not refreshed: %s", self._service,
                                describe(error))
                failing = True
            await asyncio.sleep(self._interval)
