"""Test doubles every service's unit tests share: an in-memory unit of work, a
dead-letter sink that records, and delivery of an event to a consumer as Kafka
would bring it. Fakes, not mocks (cosmicpython's FakeUnitOfWork)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from contracts import CloudEvent, EventData, new_event, parse_data, to_kafka
from loketkit.consumer import EventConsumer, Origin
from loketkit.db import StoredAnswer
from loketkit.ids import utcnow
from loketkit.uow import ANSWER_TTL, BaseUnitOfWork


class FakeAnswerStore:
    """Stored answers; like SQL, an added answer counts only once its unit commits."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], StoredAnswer] = {}
        self._pending: dict[tuple[str, str], StoredAnswer] = {}

    async def get(self, caller: str, key: str) -> StoredAnswer | None:
        found = self._pending.get((caller, key)) or self.rows.get((caller, key))
        return found if found and found.created_at > utcnow() - ANSWER_TTL else None

    async def add(self, answer: StoredAnswer) -> None:
        self._pending[(answer.caller, answer.key)] = answer

    def commit(self) -> None:
        self.rows |= self._pending
        self._pending = {}

    def rollback(self) -> None:
        self._pending = {}


class FakeUnitOfWork(BaseUnitOfWork):
    """Services subclass it and attach fake repositories. Repositories keep their
    rows across units (one fake database per test), so `rollback` undoes only
    the events and inbox entries; fakes that need more copy their rows."""

    source = "/loket/test"

    def __init__(self) -> None:
        super().__init__()
        self.published: list[CloudEvent] = []  # what the outbox would hold
        self.applied: set[tuple[str, str]] = set()  # (source, id) of applied events
        self._applied_pending: set[tuple[str, str]] = set()
        self.answers = FakeAnswerStore()
        self.commits = 0

    async def already_applied(self, event: CloudEvent) -> bool:
        return (event.source, event.id) in self.applied | self._applied_pending

    async def mark_applied(self, event: CloudEvent) -> None:
        self._applied_pending.add((event.source, event.id))

    async def _commit(self, events: list[CloudEvent]) -> None:
        self.published.extend(events)
        self.applied |= self._applied_pending
        self._applied_pending = set()
        self.answers.commit()
        self.commits += 1

    async def _rollback(self) -> None:
        self._applied_pending = set()
        self.answers.rollback()

    def published_data(self) -> list[EventData]:
        return [parse_data(event) for event in self.published]


@dataclass
class DeadLetter:
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


@dataclass
class RecordingDeadLetters:
    """The dead-letter topic, in memory."""

    sent: list[DeadLetter] = field(default_factory=list)

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.sent.append(DeadLetter(value, key, headers))

    @property
    def reasons(self) -> list[str]:
        return [letter.headers["dlq_reason"] for letter in self.sent]


_offsets = itertools.count()


async def deliver_raw(
    consumer: EventConsumer,
    value: bytes | None,
    headers: list[tuple[str, bytes]],
    key: bytes | None = b"kempen-gml",
    topic: str = "test-topic",
) -> str:
    """A message as Kafka would hand it to the service; returns what happened."""
    return await consumer.consume(value, headers, Origin(topic, 0, next(_offsets), key))


async def deliver_event(consumer: EventConsumer, event: CloudEvent) -> str:
    key, value, headers = to_kafka(event)
    return await deliver_raw(consumer, value, headers, key)


async def deliver(
    consumer: EventConsumer, data: EventData, source: str = "/test",
    caused_by: CloudEvent | None = None,
) -> str:
    """Wrap the payload in a fresh envelope and deliver it."""
    return await deliver_event(consumer, new_event(data, source=source, caused_by=caused_by))
