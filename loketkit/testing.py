"""Test doubles every service's unit tests share: an in-memory unit of work, a
dead-letter sink that records, and delivery of an event to a consumer as Kafka
would bring it. Fakes, not mocks (cosmicpython's FakeUnitOfWork)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

from contracts import CloudEvent, EventData, new_event, parse_data, to_kafka
from loketkit.area_settings import AreaSettingsVersion, pick_in_force
from loketkit.audit import AuditRow
from loketkit.auth import Caller
from loketkit.bus import CommandBus
from loketkit.consumer import EventConsumer, Incoming, Origin
from loketkit.db import StoredAnswer
from loketkit.ids import utcnow
from loketkit.mail import Notice
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


class FakeAuditTrail:
    """Audit records; like SQL, a record counts once its unit commits."""

    def __init__(self) -> None:
        self.rows: list[AuditRow] = []
        self._pending: list[AuditRow] = []

    async def add(self, row: AuditRow) -> None:
        self._pending.append(row)

    async def in_area(self, service_area: str, limit: int) -> list[AuditRow]:
        found = [row for row in self.rows if row.service_area == service_area]
        return found[::-1][:limit]

    def commit(self) -> None:
        self.rows += self._pending
        self._pending = []

    def rollback(self) -> None:
        self._pending = []


class FakeAreaSettingsStore:
    """Settings versions; an added version counts once its unit commits."""

    def __init__(self) -> None:
        self.rows: list[AreaSettingsVersion] = []
        self._pending: list[AreaSettingsVersion] = []

    def _all(self, service_area: str) -> list[AreaSettingsVersion]:
        return [v for v in (*self.rows, *self._pending) if v.service_area == service_area]

    async def in_force(self, service_area: str, at: datetime) -> AreaSettingsVersion | None:
        return pick_in_force(self._all(service_area), at)

    async def history(self, service_area: str) -> list[AreaSettingsVersion]:
        return sorted(self._all(service_area), key=lambda v: v.version)

    async def add(self, version: AreaSettingsVersion) -> None:
        if any(v.version == version.version for v in self._all(version.service_area)):
            raise ValueError("version already stored")  # the primary key, as in SQL
        self._pending.append(version)

    def put(self, service_area: str, body: dict[str, Any], effective_from: datetime,
            recorded_by: str | None = None) -> AreaSettingsVersion:
        """Test set-up: store the next version at once (committed)."""
        version = AreaSettingsVersion(
            service_area=service_area,
            version=max((v.version for v in self._all(service_area)), default=0) + 1,
            effective_from=effective_from, body=body, recorded_at=effective_from,
            recorded_by=recorded_by,
        )
        self.rows.append(version)
        return version

    def commit(self) -> None:
        self.rows.extend(self._pending)
        self._pending = []

    def rollback(self) -> None:
        self._pending = []


class FakeNoticeStore:
    """The notices outbox: `rows` holds the committed notices, in order."""

    def __init__(self) -> None:
        self.rows: list[Notice] = []
        self.attempts: dict[str, int] = {}
        self.last_error_kind: dict[str, str] = {}
        self._pending: list[Notice] = []
        self._sent: dict[str, datetime] = {}
        self._failed: list[tuple[str, str]] = []

    def _current(self) -> list[Notice]:
        return [
            n.model_copy(update={"sent_at": self._sent[n.notice_id]})
            if n.notice_id in self._sent and n.sent_at is None else n
            for n in (*self.rows, *self._pending)
        ]

    async def add(self, notice: Notice) -> None:
        if any(n.notice_id == notice.notice_id for n in (*self.rows, *self._pending)):
            raise ValueError("notice_id already stored")
        self._pending.append(notice)

    async def claim_unsent(self, limit: int) -> list[Notice]:
        unsent = [n for n in self._current() if n.sent_at is None]
        return sorted(unsent, key=lambda n: (n.created_at, n.notice_id))[:limit]

    async def mark_sent(self, notice_ids: Sequence[str], at: datetime) -> set[str]:
        unsent = {n.notice_id for n in self._current() if n.sent_at is None}
        marked = unsent & set(notice_ids)
        for notice_id in marked:
            self._sent[notice_id] = at
        return marked

    async def mark_failed(self, notice_id: str, error_kind: str) -> None:
        self._failed.append((notice_id, error_kind))

    async def pending(self) -> int:
        return sum(1 for n in self._current() if n.sent_at is None)

    @property
    def unsent(self) -> list[Notice]:
        return [n for n in self.rows if n.sent_at is None]

    def of_kind(self, kind: str) -> list[Notice]:
        return [n for n in self.rows if n.kind == kind]

    def commit(self) -> None:
        self.rows = [
            n.model_copy(update={"sent_at": self._sent[n.notice_id]})
            if n.notice_id in self._sent and n.sent_at is None else n
            for n in (*self.rows, *self._pending)
        ]
        for notice_id, kind in self._failed:
            self.attempts[notice_id] = self.attempts.get(notice_id, 0) + 1
            self.last_error_kind[notice_id] = kind
        for notice_id in self._sent:
            self.attempts[notice_id] = self.attempts.get(notice_id, 0) + 1
        self.rollback()

    def rollback(self) -> None:
        self._pending = []
        self._sent = {}
        self._failed = []


class FakeUnitOfWork(BaseUnitOfWork):
    """Services subclass it and attach fake repositories. Repositories keep their
    rows across units (one fake database per test), so `rollback` undoes only
    the events and inbox entries; fakes that need more copy their rows."""

    source = "/loket/test"
    audit_trail: FakeAuditTrail

    def __init__(self) -> None:
        super().__init__()
        self.published: list[CloudEvent] = []  # what the outbox would hold
        self.applied: set[tuple[str, str]] = set()  # (source, id) of applied events
        self._applied_pending: set[tuple[str, str]] = set()
        self.answers = FakeAnswerStore()
        self.area_settings = FakeAreaSettingsStore()
        self.notices = FakeNoticeStore()
        self.audit_trail = FakeAuditTrail()
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
        self.area_settings.commit()
        self.notices.commit()
        self.audit_trail.commit()
        self.commits += 1

    async def _rollback(self) -> None:
        self._applied_pending = set()
        self.answers.rollback()
        self.area_settings.rollback()
        self.notices.rollback()
        self.audit_trail.rollback()

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


async def deliver_batch(consumer: EventConsumer, events: Sequence[CloudEvent],
                        topic: str = "test-topic") -> list[str]:
    """Events as one batch from one partition (one unit of work); what happened to each."""
    messages = []
    for event in events:
        key, value, headers = to_kafka(event)
        messages.append(Incoming(value, headers, Origin(topic, 0, next(_offsets), key)))
    return await consumer.consume_batch(messages)


async def deliver_event(consumer: EventConsumer, event: CloudEvent,
                        topic: str = "test-topic") -> str:
    key, value, headers = to_kafka(event)
    return await deliver_raw(consumer, value, headers, key, topic)


async def deliver(
    consumer: EventConsumer, data: EventData, source: str = "/test",
    caused_by: CloudEvent | None = None, topic: str = "test-topic",
) -> str:
    """Wrap the payload in a fresh envelope and deliver it (on `topic`: an organiser's
    announcement must come on that organiser's own inbound topic)."""
    return await deliver_event(
        consumer, new_event(data, source=source, caused_by=caused_by), topic)


@dataclass
class RecordingMailer:
    """A mail server in memory: `sent` holds what it accepted; `down` refuses all."""

    sent: list[Message] = field(default_factory=list)
    down: bool = False

    async def send(self, messages: Sequence[Message]) -> list[BaseException | None]:
        if self.down:
            raise ConnectionRefusedError("mail server down")
        self.sent.extend(messages)
        return [None] * len(messages)


class TestIssuer:
    """Mints access tokens as an OpenID Connect provider would, signed with a key made
    for this test run; `verifier` checks them like the real one checks Keycloak's."""

    __test__ = False  # not a pytest class
    issuer = "https://login.test/realms/loket"
    KEY_ID = "test-key"

    def __init__(self, audience: str = "loket") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from loketkit.auth import StaticKeyVerifier

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.audience = audience
        self.verifier = StaticKeyVerifier(self._key.public_key(), self.issuer, audience)

    def token(self, claims: dict[str, Any], expires_in: int = 600, **overrides: Any) -> str:
        import jwt

        now = int(utcnow().timestamp())
        payload = {"iss": self.issuer, "aud": [self.audience], "iat": now,
                   "exp": now + expires_in, **claims, **overrides}
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.KEY_ID})

    @property
    def public_key(self) -> Any:
        return self._key.public_key()


class ActingBus:
    """A command bus that says who acts, for handler tests that are about something else."""

    def __init__(self, bus: CommandBus, actor: Caller | None) -> None:
        self._bus, self._actor = bus, actor

    async def handle(self, command: object, uow: Any = None) -> Any:
        return await self._bus.handle(command, uow, actor=self._actor)
