"""FastStream wiring: the broker, the subscriber with its ack policy and its
redelivery of transient failures, and dead letters.

A message whose handling fails for a transient reason (the database restarting,
out of connections; see `loketkit.transient`) is neither dead-lettered nor
refetched at once: its partition is paused, sought back to the message, and
resumed after a delay that doubles per failure (0.5 s up to 30 s by default)
and starts over after a success. The other partitions keep flowing meanwhile,
and the consumer keeps polling, so it stays in its group.

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

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, Counter

from contracts.topics import DEAD_LETTER, TopicPattern, TopicSpec, subscription_regex
from loketkit.consumer import EventConsumer, Origin
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

    async def later(self, msg: KafkaMessage, record: ConsumerRecord[Any, Any],
                    error: BaseException) -> None:
        partition = TopicPartition(record.topic, record.partition)
        delay = self._backoff.failed(partition)
        REDELIVERIES.labels(self._service, record.topic).inc()
        # One line, no traceback and no values: the cause is the infrastructure's.
        log.warning(
            "%s: %s on %s[%d]@%d; partition paused, delivering it again in %.1f s",
            self._service, describe(error), record.topic, record.partition, record.offset, delay,
        )
        kafka_consumer = msg.consumer
        pause = getattr(kafka_consumer, "pause", None)
        if pause is not None:  # FastStream's in-memory test broker has no partitions
            pause(partition)
        await msg.nack()  # seeks back to this offset; FastStream's ack is a no-op after it
        if pause is not None:
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


def subscribe(
    broker: KafkaBroker, topics: Sequence[InputTopic], consumer: EventConsumer, group_id: str,
    topic_prefix: str = "", *, redelivery_first_seconds: float = 0.5,
    redelivery_max_seconds: float = 30.0,
) -> PausingRedelivery:
    """One subscriber (one consumer, one group membership) for all of a service's input
    topics, so joining the group costs one rebalance. The range assignor gives partition
    N of every input topic to the same instance: topics share keys (the service area) and
    partition counts, so one instance sees all of an area's requests and places, in
    order. NACK_ON_ERROR: the offset is committed only after `consume` returns (effect
    durable, or dead-lettered); a transient failure pauses the partition and delivers
    the message again later (`PausingRedelivery`)."""
    redelivery = PausingRedelivery(consumer.service, redelivery_first_seconds,
                                   redelivery_max_seconds)

    explicit = tuple(topic for topic in topics if isinstance(topic, TopicSpec))
    patterns = tuple(topic for topic in topics if isinstance(topic, TopicPattern))
    pattern = subscription_regex(explicit, patterns, topic_prefix) if patterns else None
    names = () if patterns else tuple(f"{topic_prefix}{topic.name}" for topic in explicit)

    @broker.subscriber(
        *names,
        pattern=pattern,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        title=f"{consumer.service}:inputs",
    )
    async def on_message(msg: KafkaMessage) -> None:
        record: ConsumerRecord[bytes, bytes] = msg.raw_message
        try:
            await consumer.consume(
                record.value,
                record.headers or (),
                Origin(record.topic, record.partition, record.offset, record.key),
            )
        except Exception as error:
            if not is_transient(error):
                raise  # a defect of the consumer itself: FastStream logs it and nacks
            await redelivery.later(msg, record, error)
            return
        redelivery.succeeded(TopicPartition(record.topic, record.partition))

    return redelivery
