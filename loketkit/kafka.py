"""FastStream wiring: the broker, the subscriber with its ack policy and its
redelivery of transient failures, and dead letters.

Messages come in batches: per partition, one transaction and one commit of the
exact offsets applied (see `subscribe`). A batch whose handling fails for a
transient reason (the database restarting, out of connections; see
`loketkit.transient`) is neither dead-lettered nor refetched at once: its
partition is paused, sought back to the batch's first message, and resumed
after a delay that doubles per failure (0.5 s up to 30 s by default) and starts
over after a success. The other partitions keep flowing meanwhile, and the
consumer keeps polling, so it stays in its group.

Input topics may include topic families (`contracts.topics.TopicPattern`, e.g. one
inbound topic per organiser): the subscriber then subscribes by one regular
expression covering the explicit topics and the families, because aiokafka cannot
mix a topic list and a pattern in one consumer; a new family member is picked up
at the next metadata refresh (KAFKA_METADATA_MAX_AGE_MS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, Counter

from contracts.topics import DEAD_LETTER, TopicPattern, TopicSpec, subscription_regex
from loketkit.consumer import EventConsumer, Incoming, Origin
from loketkit.kafka_security import PLAINTEXT, KafkaSecurity
from loketkit.transient import Backoff, describe, is_transient

log = logging.getLogger(__name__)

REDELIVERIES = Counter(
    "loket_consumer_transient_failures",
    "Messages put back for later because the infrastructure failed (partition paused)",
    ["service", "topic"],
)


InputTopic = TopicSpec | TopicPattern


def make_broker(bootstrap_servers: str, service: str, security: KafkaSecurity = PLAINTEXT,
                metadata_max_age_ms: int = 30_000) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=f"loket-{service}",
        security=security.faststream(),
        metadata_max_age_ms=metadata_max_age_ms,
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"loket-{service}")],
        log_level=logging.DEBUG,  # one line per message is noise at INFO; metrics count them
    )


class KafkaDeadLetters:
    """Publishes a failed message to the dead-letter topic and waits for the ack.
    The consumer bounds what it sends (`loketkit.consumer.dead_letter_record`)."""

    def __init__(self, broker: KafkaBroker, topic_prefix: str = "") -> None:
        self._broker = broker
        self._topic = f"{topic_prefix}{DEAD_LETTER.name}"

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        await self._broker.publish(value or b"", topic=self._topic, key=key, headers=headers)


class PausingRedelivery:
    """Puts a partition aside for a growing delay: pause, seek back, resume later."""

    def __init__(self, service: str, first_seconds: float, max_seconds: float) -> None:
        self._service = service
        self._backoff = Backoff(first_seconds, max_seconds)
        self._timers: dict[TopicPartition, asyncio.TimerHandle] = {}

    def succeeded(self, partition: TopicPartition) -> None:
        self._backoff.succeeded(partition)

    def later(self, kafka_consumer: Any, partition: TopicPartition, offset: int,
              error: BaseException) -> None:
        """Deliver `partition` again from `offset` after the partition's next delay."""
        delay = self._backoff.failed(partition)
        REDELIVERIES.labels(self._service, partition.topic).inc()
        # One line, no traceback and no values: the cause is the infrastructure's.
        log.warning(
            "%s: %s on %s[%d]@%d; partition paused, delivering it again in %.1f s",
            self._service, describe(error), partition.topic, partition.partition, offset, delay,
        )
        if not isinstance(kafka_consumer, AIOKafkaConsumer):
            return  # FastStream's in-memory test broker has no partitions
        kafka_consumer.pause(partition)
        # Seeking also drops what the fetcher had buffered beyond this offset.
        kafka_consumer.seek(partition, offset)
        previous = self._timers.pop(partition, None)
        if previous is not None:
            previous.cancel()
        self._timers[partition] = asyncio.get_running_loop().call_later(
            delay, self._resume, kafka_consumer, partition)

    def _resume(self, kafka_consumer: Any, partition: TopicPartition) -> None:
        self._timers.pop(partition, None)
        # Revoked meanwhile: its next owner starts from the committed offset.
        with contextlib.suppress(IllegalStateError, AssertionError):  # or stopped
            kafka_consumer.resume(partition)

    def cancel(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


class DrainBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """A rebalance waits for the batch in hand: it is applied and its offsets are
    committed before its partitions go to another instance, so the new owner starts
    after it (and drops by the inbox what a failed commit makes it see again)."""

    def __init__(self) -> None:
        self.working = asyncio.Lock()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.working:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        pass


def by_partition(
    records: Sequence[ConsumerRecord[bytes, bytes]],
) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
    """A fetched batch split per partition, each in offset order."""
    split: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        split.setdefault(TopicPartition(record.topic, record.partition), []).append(record)
    return split


async def commit_offsets(kafka_consumer: Any, offsets: dict[TopicPartition, int]) -> None:
    """Commit exactly these offsets (the next record to read, per partition), not the
    consumer's positions. The effects are durable already: if the partitions moved to
    another instance meanwhile, it delivers them again and its inbox drops them."""
    if not offsets or not isinstance(kafka_consumer, AIOKafkaConsumer):
        return  # FastStream's in-memory test broker has no offsets
    try:
        await kafka_consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError) as error:
        log.info("offsets not committed (%s): the partitions moved; their next owner "
                 "skips what was applied here", type(error).__name__)


async def leave_undecoded(message: object) -> None:
    """The records are read from `raw_message` (`EventConsumer` parses each once), so
    FastStream need not decode their JSON bodies first."""
    return None


def subscribe(
    broker: KafkaBroker, topics: Sequence[InputTopic], consumer: EventConsumer, group_id: str,
    topic_prefix: str = "", *, redelivery_first_seconds: float = 0.5,
    redelivery_max_seconds: float = 30.0, max_records: int = 500, batch_timeout_ms: int = 20,
) -> PausingRedelivery:
    """One subscriber (one consumer, one group membership) for all of a service's input
    topics, so joining the group costs one rebalance. The range assignor gives partition
    N of every input topic to the same instance: topics share keys (the service area) and
    partition counts, so one instance sees all of an area's requests and places, in
    order.

    It takes what the broker has in batches (up to `max_records`): per partition, one
    transaction (`EventConsumer.consume_batch`: one inbox row per event, a failing
    event split off and retried or dead-lettered alone), then one commit of the exact
    offsets applied. Acks are manual: an offset is committed only after its effect is
    durable. A transient failure pauses that partition and delivers it again from the
    batch's first record later (`PausingRedelivery`); the other partitions go on."""
    redelivery = PausingRedelivery(consumer.service, redelivery_first_seconds,
                                   redelivery_max_seconds)
    draining = DrainBeforeRevoke()

    explicit = tuple(topic for topic in topics if isinstance(topic, TopicSpec))
    patterns = tuple(topic for topic in topics if isinstance(topic, TopicPattern))
    pattern = subscription_regex(explicit, patterns, topic_prefix) if patterns else None
    names = () if patterns else tuple(f"{topic_prefix}{topic.name}" for topic in explicit)

    @broker.subscriber(
        *names,
        pattern=pattern,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        listener=draining,
        title=f"{consumer.service}:inputs",
        decoder=leave_undecoded,
    )
    async def on_batch(msg: KafkaMessage) -> None:
        records: Sequence[ConsumerRecord[bytes, bytes]] = msg.raw_message
        applied: dict[TopicPartition, int] = {}
        async with draining.working:
            for partition, batch in by_partition(records).items():
                try:
                    await consumer.consume_batch([
                        Incoming(record.value, record.headers or (),
                                 Origin(record.topic, record.partition, record.offset,
                                        record.key))
                        for record in batch])
                except Exception as error:  # noqa: BLE001 - nothing of it is committed
                    if not is_transient(error):  # the kind only: texts may quote values
                        log.error("%s: %s applying %s[%d] (a defect); delivering it again "
                                  "later", consumer.service, describe(error),
                                  partition.topic, partition.partition)
                    redelivery.later(msg.consumer, partition, batch[0].offset, error)
                    continue
                redelivery.succeeded(partition)
                applied[partition] = batch[-1].offset + 1
            await commit_offsets(msg.consumer, applied)

    return redelivery
