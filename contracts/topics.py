"""Kafka topics, declared once: name, partitions, key and retention.

Nothing relies on auto-created topics: the launcher and the tests create these
from this list, and docker-compose and Kubernetes material mirror it.
Every topic is keyed by the service area (werkingsgebied) so one matching
instance sees all requests and places of one loket, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DAY_MS = 24 * 60 * 60 * 1000
FOREVER = -1


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    retention_ms: int
    description: str
    extra_config: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), **self.extra_config}


SERVICE_AREA_KEY = "service area code (werkingsgebied), e.g. 'kempen-gml'"

REQUESTS = TopicSpec(
    name="loket.requests.v1",
    partitions=6,
    key=SERVICE_AREA_KEY,
    retention_ms=FOREVER,  # reporting rebuilds its figures from the full log
    description="Childcare requests, published by intake: pseudonymous, no personal data.",
)
CAPACITY = TopicSpec(
    name="loket.capacity.v1",
    partitions=6,
    key=SERVICE_AREA_KEY,
    retention_ms=FOREVER,
    description="Validated locations, free places and closures, published by capacity.",
)
CAPACITY_INBOUND = TopicSpec(
    name="loket.capacity.inbound.v1",
    partitions=6,
    key=SERVICE_AREA_KEY,
    retention_ms=30 * DAY_MS,
    description=(
        "Announcements from organisers' own systems (PlaceFreed). Capacity validates them "
        "and republishes them on loket.capacity.v1; invalid ones go to the dead-letter topic."
    ),
)
MATCHES = TopicSpec(
    name="loket.matches.v1",
    partitions=6,
    key=SERVICE_AREA_KEY,
    retention_ms=FOREVER,
    description="Match proposals, published by matching.",
)
DEAD_LETTER = TopicSpec(
    name="loket.deadletter.v1",
    partitions=3,
    key="the original message's key",
    retention_ms=30 * DAY_MS,
    description=(
        "Messages no service could handle, with the reason and the original topic, "
        "partition and offset in headers (dlq.*)."
    ),
)

TOPICS: tuple[TopicSpec, ...] = (REQUESTS, CAPACITY, CAPACITY_INBOUND, MATCHES, DEAD_LETTER)


def with_prefix(prefix: str, topics: tuple[TopicSpec, ...] = TOPICS) -> tuple[TopicSpec, ...]:
    """The same topics in a namespace (KAFKA_TOPIC_PREFIX), e.g. for tests sharing a broker."""
    return tuple(replace(topic, name=f"{prefix}{topic.name}") for topic in topics)
