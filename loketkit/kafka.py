"""FastStream wiring: the broker, subscribers with an explicit ack policy, dead letters."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from contracts.topics import DEAD_LETTER, TopicSpec
from loketkit.consumer import EventConsumer, Origin


def make_broker(bootstrap_servers: str, service: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=f"loket-{service}",
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"loket-{service}")],
        log_level=logging.DEBUG,  # one line per message is noise at INFO; metrics count them
    )


class KafkaDeadLetters:
    """Publishes a failed message to the dead-letter topic and waits for the ack."""

    def __init__(self, broker: KafkaBroker, topic_prefix: str = "") -> None:
        self._broker = broker
        self._topic = f"{topic_prefix}{DEAD_LETTER.name}"

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        await self._broker.publish(value or b"", topic=self._topic, key=key, headers=headers)


def subscribe(
    broker: KafkaBroker, topics: Sequence[TopicSpec], consumer: EventConsumer, group_id: str,
    topic_prefix: str = "",
) -> None:
    """One subscriber (one consumer, one group membership) for all of a service's input
    topics, so joining the group costs one rebalance. The range assignor gives partition
    N of every input topic to the same instance: topics share keys (the service area) and
    partition counts, so one instance sees all of an area's requests and places, in
    order. NACK_ON_ERROR: the offset is committed only
    after `consume` returns (effect durable, or dead-lettered); when it raises, the
    message is sought back and delivered again."""

    @broker.subscriber(
        *(f"{topic_prefix}{topic.name}" for topic in topics),
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        partition_assignment_strategy=(RangePartitionAssignor,),
        title=f"{consumer.service}:inputs",
    )
    async def on_message(msg: KafkaMessage) -> None:
        record: ConsumerRecord[bytes, bytes] = msg.raw_message
        await consumer.consume(
            record.value,
            record.headers or (),
            Origin(record.topic, record.partition, record.offset, record.key),
        )
