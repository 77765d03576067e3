"""Dead letters as the consumers write them (loketkit.consumer): the original key, value
and headers, plus `dlq_*` headers saying where the message came from and why it failed.
Reading them from the topic, and publishing them again to their original topic."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from loketkit.kafka_security import PLAINTEXT, KafkaSecurity

# FastStream adds these to what it publishes (the dead letter): a correlation id always,
# and an empty content-type when the original had none.
ADDED_BY_PUBLISHER = frozenset({("correlation_id", None), ("content-type", b"")})
FETCH_TIMEOUT_MS = 500
READ_TIMEOUT_SECONDS = 120.0


class DeadLetterError(Exception):
    """A problem to tell the operator (exit code 1), not a crash."""


@dataclass(frozen=True, order=True)
class Position:
    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> Position:
        """'PARTITION:OFFSET', both whole numbers from 0."""
        partition, sep, offset = text.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"{text!r} is not PARTITION:OFFSET (e.g. 0:42)")
        return cls(int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True)
class DeadLetter:
    position: Position
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        return cls(Position(record.partition, record.offset), record.timestamp, record.key,
                   record.value, tuple(record.headers or ()))

    def header(self, name: str, default: str = "") -> str:
        for key, raw in self.headers:
            if key == name:
                return raw.decode("utf-8", "replace")
        return default

    @property
    def service(self) -> str:
        return self.header("dlq_service", "?")

    @property
    def original_topic(self) -> str:
        return self.header("dlq_original_topic")

    @property
    def reason(self) -> str:
        return " ".join(self.header("dlq_reason").split())  # one line

    @property
    def value_omitted(self) -> bool:
        """The consumer leaves out a value too large to dead-letter: nothing to replay."""
        return self.header("dlq_value_omitted") == "true"

    @property
    def time(self) -> str:
        moment = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def line(self) -> str:
        """One line for `list`: where, when, who, from where, what, why. Never the value."""
        origin = (f"{self.original_topic or '?'}[{self.header('dlq_original_partition', '?')}]"
                  f"@{self.header('dlq_original_offset', '?')}")
        omitted = "  (value left out: too large)" if self.value_omitted else ""
        return (f"{self.position}  {self.time}  {self.service}  {origin}  "
                f"{self.header('ce_type', '(no ce_type)')}  reason={self.reason!r}  "
                f"attempts={self.header('dlq_attempts', '?')}{omitted}")

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers: without ours (dlq_*) and what the dead-letter publisher added."""
        return [(name, raw) for name, raw in self.headers
                if not name.startswith("dlq_") and (name, None) not in ADDED_BY_PUBLISHER
                and (name, raw) not in ADDED_BY_PUBLISHER]


@dataclass(frozen=True)
class Filters:
    service: str | None = None
    reason_contains: str | None = None
    topic: str | None = None
    topic_prefix: str = ""

    def match(self, letter: DeadLetter) -> bool:
        if self.service is not None and letter.service != self.service:
            return False
        if self.reason_contains is not None and (
                self.reason_contains.lower() not in letter.reason.lower()):
            return False
        if self.topic is not None:
            # The header names the topic as consumed, with the prefix; either form will do.
            wanted = {self.topic, f"{self.topic_prefix}{self.topic}"}
            if letter.original_topic not in wanted:
                return False
        return True


async def _partitions(bootstrap: str, topic: str, security: KafkaSecurity
                      ) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="loket-deadletters",
                                **security.aiokafka())
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description["error_code"] or not description["partitions"]:
        raise DeadLetterError(f"topic {topic} not found on {bootstrap}")
    return [TopicPartition(topic, p["partition"]) for p in description["partitions"]]


def _consumer(bootstrap: str, security: KafkaSecurity) -> AIOKafkaConsumer:
    # No group: reading never commits offsets or disturbs the services.
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                            client_id="loket-deadletters", enable_auto_commit=False,
                            auto_offset_reset="earliest", **security.aiokafka())


async def read_all(bootstrap: str, topic: str, filters: Filters,
                   limit: int | None = None, security: KafkaSecurity = PLAINTEXT
                   ) -> list[DeadLetter]:
    """Every matching dead letter up to the topic's current end, oldest first."""
    partitions = await _partitions(bootstrap, topic, security)
    consumer = _consumer(bootstrap, security)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        deadline = asyncio.get_running_loop().time() + READ_TIMEOUT_SECONDS
        while remaining:
            if asyncio.get_running_loop().time() > deadline:
                raise DeadLetterError(f"reading {topic} took over {READ_TIMEOUT_SECONDS:.0f}s")
            batch = await consumer.getmany(*remaining, timeout_ms=FETCH_TIMEOUT_MS)
            for tp, records in batch.items():
                letters.extend(DeadLetter.from_record(r) for r in records
                               if r.offset < ends[tp])
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    matching = sorted((letter for letter in letters if filters.match(letter)),
                      key=lambda letter: (letter.timestamp_ms, letter.position))
    return matching[:limit] if limit is not None else matching


async def read_at(bootstrap: str, topic: str, positions: Sequence[Position],
                  security: KafkaSecurity = PLAINTEXT) -> list[DeadLetter]:
    """The dead letters at these positions, in the order asked; DeadLetterError if one
    is not there."""
    known = {tp.partition: tp for tp in await _partitions(bootstrap, topic, security)}
    missing = sorted({p.partition for p in positions} - set(known))
    if missing:
        raise DeadLetterError(f"{topic} has no partition {missing[0]} "
                              f"(partitions: {', '.join(map(str, sorted(known)))})")
    consumer = _consumer(bootstrap, security)
    await consumer.start()
    try:
        tps = [known[p] for p in sorted({p.partition for p in positions})]
        consumer.assign(tps)
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        found = []
        for position in positions:
            tp = known[position.partition]
            if not starts[tp] <= position.offset < ends[tp]:
                raise DeadLetterError(
                    f"no dead letter at {position}: partition {position.partition} holds "
                    f"offsets {starts[tp]} to {ends[tp] - 1}" if ends[tp] > starts[tp] else
                    f"no dead letter at {position}: partition {position.partition} is empty")
            found.append(await _fetch_one(consumer, tp, position))
    finally:
        await consumer.stop()
    return found


async def _fetch_one(consumer: AIOKafkaConsumer, tp: TopicPartition,
                     position: Position) -> DeadLetter:
    consumer.seek(tp, position.offset)
    for _ in range(20):
        batch = await consumer.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=1)
        for record in batch.get(tp, []):
            if record.offset == position.offset:
                return DeadLetter.from_record(record)
            raise DeadLetterError(f"no dead letter at {position} (next is {record.offset})")
    raise DeadLetterError(f"no dead letter at {position}: the broker returned nothing")


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    partition: int
    offset: int


def check_replayable(letters: Iterable[DeadLetter]) -> list[str]:
    """Why some of these cannot be replayed (empty when all can)."""
    problems = []
    for letter in letters:
        if not letter.original_topic:
            problems.append(f"{letter.position}: no dlq_original_topic header, "
                            "not a dead letter written by a loket service")
        elif letter.value_omitted:
            problems.append(f"{letter.position}: its value was left out (too large); read it "
                            f"from {letter.original_topic} partition "
                            f"{letter.header('dlq_original_partition')} offset "
                            f"{letter.header('dlq_original_offset')} instead")
    return problems


async def replay(bootstrap: str, letters: Sequence[DeadLetter],
                 security: KafkaSecurity = PLAINTEXT) -> list[Replayed]:
    """Publish each to its original topic with its original key, value and headers, in
    order, each acknowledged by all in-sync replicas before the next."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="loket-deadletters",
                                acks="all", enable_idempotence=True, **security.aiokafka())
    await producer.start()
    try:
        done = []
        for letter in letters:
            metadata = await producer.send_and_wait(
                letter.original_topic, letter.value, key=letter.key,
                headers=letter.replay_headers())
            done.append(Replayed(letter, metadata.partition, metadata.offset))
        return done
    finally:
        await producer.stop()

