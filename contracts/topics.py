"""Kafka topics, declared once: name, partitions, key and retention.

Nothing relies on auto-created topics: the launcher and the tests create these
from this list, and docker-compose and Kubernetes material mirror it.
Organisers' systems each write to their own inbound topic
(`loket.capacity.inbound.v1.<organiser_id>`, a `TopicPattern`): Kafka's ACLs then
say who may write there, and the topic name tells capacity who wrote an event.
Every topic is keyed by the service area (werkingsgebied) so one matching
instance sees all requests and places of one loket, in order.
"""

from __future__ import annotations

import re
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

TOPICS: tuple[TopicSpec, ...] = (REQUESTS, CAPACITY, MATCHES, DEAD_LETTER)


def with_prefix(prefix: str, topics: tuple[TopicSpec, ...] = TOPICS) -> tuple[TopicSpec, ...]:
    """The same topics in a namespace (KAFKA_TOPIC_PREFIX), e.g. for tests sharing a broker."""
    return tuple(replace(topic, name=f"{prefix}{topic.name}") for topic in topics)


# An organiser id is also its Kafka principal (SCRAM user) and the end of its topic
# name: lower-case letters, digits and hyphens only, so neither can be ambiguous.
ORGANISER_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


@dataclass(frozen=True)
class TopicPattern:
    """A family of topics `<stem><party>`, one per party, all with the same settings.

    Consumers subscribe to the family by regular expression (`regex`); each member
    topic is created when its party is onboarded (`topic`)."""

    stem: str
    partitions: int
    key: str
    retention_ms: int
    description: str
    party_pattern: str = ORGANISER_ID_PATTERN

    @property
    def name(self) -> str:
        """How documents and logs name the family."""
        return f"{self.stem}<organiser_id>"

    def topic(self, party: str, prefix: str = "") -> TopicSpec:
        if not re.fullmatch(self.party_pattern, party):
            raise ValueError(f"not a valid organiser id for a topic name: {party!r}")
        return TopicSpec(f"{prefix}{self.stem}{party}", self.partitions, self.key,
                         self.retention_ms, self.description)

    def party_of(self, topic: str, prefix: str = "") -> str | None:
        """The party whose topic this is, or None when it is not one of the family."""
        head = f"{prefix}{self.stem}"
        if not topic.startswith(head):
            return None
        party = topic[len(head):]
        return party if re.fullmatch(self.party_pattern, party) else None

    def regex(self, prefix: str = "") -> str:
        """A regular expression (unanchored body) matching every member topic."""
        return re.escape(f"{prefix}{self.stem}") + ".+"


ORGANISER_INBOUND_TOPICS = TopicPattern(
    stem="loket.capacity.inbound.v1.",
    partitions=6,
    key=SERVICE_AREA_KEY,
    retention_ms=30 * DAY_MS,
    description=(
        "Announcements from one organiser's own system (PlaceFreed, CapacityDeclared, "
        "enrolments, answers to offers), one topic per organiser, writable only by it. "
        "Capacity validates them and republishes them on loket.capacity.v1; invalid ones "
        "go to the dead-letter topic."
    ),
)


def organiser_inbound_topic(organiser_id: str, prefix: str = "") -> str:
    """`loket.capacity.inbound.v1.<organiser_id>` (with the namespace prefix)."""
    return ORGANISER_INBOUND_TOPICS.topic(organiser_id, prefix).name


def organiser_of_topic(topic: str, prefix: str = "") -> str | None:
    """The organiser whose inbound topic this is; None for any other topic."""
    return ORGANISER_INBOUND_TOPICS.party_of(topic, prefix)


def subscription_regex(
    topics: tuple[TopicSpec, ...], patterns: tuple[TopicPattern, ...], prefix: str = ""
) -> str:
    """One anchored regex for explicit topics and topic families together: aiokafka
    cannot mix a topic list and a pattern in one consumer."""
    parts = [re.escape(f"{prefix}{topic.name}") for topic in topics]
    parts += [pattern.regex(prefix) for pattern in patterns]
    return "^(?:" + "|".join(parts) + ")$"
