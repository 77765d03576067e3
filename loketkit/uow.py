"""Unit of work: one transaction for the state change, the events it emits
(outbox), the ids of the events that caused it (inbox) and, for an idempotent
POST, the answer to replay.

Handlers see the `UnitOfWork` protocol plus the repositories their service adds
(each service declares a Protocol such as `IntakeUnitOfWork` in its `ports`).
The SQL version writes everything in one PostgreSQL transaction; the in-memory
version (`loketkit.testing`) backs the unit tests.

A unit of work may be entered again while it is open: the inner `commit` then
only flushes, and the outermost one commits. That lets a consumer apply a
batch of events in one transaction, and an idempotent POST store its answer
in the same transaction as the effect, without handlers knowing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from contracts import BY_TYPE, CloudEvent, EventData, new_event, to_kafka
from loketkit.area_settings import AreaSettingsStore, SqlAreaSettingsStore
from loketkit.audit import Acting, AuditTrail, SqlAuditTrail
from loketkit.db import OutboxMessage, ProcessedEvent, StoredAnswer, insert_rows, table_of
from loketkit.ids import utcnow
from loketkit.mail import NoticeStore, SqlNoticeStore

# An Idempotency-Key is remembered this long; a retry after that is a new request.
ANSWER_TTL = timedelta(days=1)


class AnswerStore(Protocol):
    """First answers to idempotent POSTs, per caller and key."""

    async def get(self, caller: str, key: str) -> StoredAnswer | None: ...

    async def add(self, answer: StoredAnswer) -> None: ...


class UnitOfWork(Protocol):
    """What every handler may use; services extend it with their repositories."""

    @property
    def answers(self) -> AnswerStore: ...

    @property
    def area_settings(self) -> AreaSettingsStore:
        """Versioned per-area settings (loketkit.area_settings)."""
        ...

    @property
    def notices(self) -> NoticeStore:
        """E-mails to send, written with the state change (loketkit.mail)."""
        ...

    @property
    def audit_trail(self) -> AuditTrail:
        """Who changed what (loketkit.audit); written when the unit commits."""
        ...

    acting: Acting | None
    pending_events: list[CloudEvent]  # emitted in this unit, written when it commits

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def emit(self, data: EventData, caused_by: CloudEvent | None = None) -> CloudEvent: ...

    async def already_applied(self, event: CloudEvent) -> bool: ...

    async def applied_among(self, events: Sequence[CloudEvent]) -> set[tuple[str, str]]:
        """The (source, id) of those events applied before: one look for a batch."""
        ...

    async def mark_applied(self, event: CloudEvent) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class BaseUnitOfWork(abc.ABC):
    """Emitting, nesting and after-commit hooks; subclasses store things."""

    source: str = "/loket"
    audit_trail: AuditTrail

    def __init__(self, on_commit: Callable[[], None] = lambda: None) -> None:
        self.pending_events: list[CloudEvent] = []
        # Who is making the change this unit commits (set by the command bus): the
        # audit record is written in the same transaction (loketkit.audit).
        self.acting: Acting | None = None
        self._depth = 0
        self._on_commit = on_commit

    def emit(self, data: EventData, caused_by: CloudEvent | None = None) -> CloudEvent:
        event = new_event(data, source=self.source, caused_by=caused_by)
        self.pending_events.append(event)
        return event

    async def applied_among(self, events: Sequence[CloudEvent]) -> set[tuple[str, str]]:
        return {(event.source, event.id) for event in events
                if await self.already_applied(event)}

    @abc.abstractmethod
    async def already_applied(self, event: CloudEvent) -> bool: ...

    @property
    def nested(self) -> bool:
        """Entered inside an open unit: the outermost one commits."""
        return self._depth > 1

    async def __aenter__(self) -> Self:
        self._depth += 1
        if self._depth == 1:
            self.pending_events = []
            await self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if exc_type is not None:
            self.acting = None  # the change failed: nothing to record
        if self._depth == 0:
            await self.rollback()  # a no-op after commit; otherwise nothing is kept
            await self._end()

    async def commit(self) -> None:
        if self.acting is not None:  # each change its record, also inside a batch
            await self.audit_trail.add(self.acting.record(self.pending_events, utcnow()))
            self.acting = None
        if self.nested:
            await self._flush()
            return
        wrote_events = bool(self.pending_events)
        await self._commit(self.pending_events)
        self.pending_events = []
        if wrote_events:
            self._on_commit()  # wakes the outbox relay: the events leave at once

    async def rollback(self) -> None:
        if self.nested:
            return  # the outermost unit decides
        self.pending_events = []
        self.acting = None
        await self._rollback()

    async def _begin(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Open the transaction and the repositories."""

    async def _end(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release what `_begin` took."""

    async def _flush(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Make the nested unit's changes visible to the rest of the transaction."""

    @abc.abstractmethod
    async def _commit(self, events: list[CloudEvent]) -> None: ...

    @abc.abstractmethod
    async def _rollback(self) -> None: ...


class SqlAnswerStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, caller: str, key: str) -> StoredAnswer | None:
        return (
            await self._session.execute(
                select(StoredAnswer)
                .where(col(StoredAnswer.caller) == caller, col(StoredAnswer.key) == key)
                .where(col(StoredAnswer.created_at) > utcnow() - ANSWER_TTL)
            )
        ).scalar_one_or_none()

    async def add(self, answer: StoredAnswer) -> None:
        # An expired answer under the same key makes way for the new one.
        await self._session.execute(
            delete(StoredAnswer)
            .where(col(StoredAnswer.caller) == answer.caller, col(StoredAnswer.key) == answer.key)
            .where(col(StoredAnswer.created_at) <= utcnow() - ANSWER_TTL)
        )
        self._session.add(answer)

    async def prune(self, now: datetime) -> int:
        result = await self._session.execute(
            delete(StoredAnswer).where(col(StoredAnswer.created_at) <= now - ANSWER_TTL)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlUnitOfWork(BaseUnitOfWork):
    """Subclasses attach their repositories to `self.session` in `open_repositories`."""

    session: AsyncSession
    answers: SqlAnswerStore
    area_settings: SqlAreaSettingsStore
    notices: SqlNoticeStore
    audit_trail: SqlAuditTrail

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        source: str,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(on_commit)
        self._session_factory = session_factory
        self.source = source

    def open_repositories(self, session: AsyncSession) -> None:
        """Services override this to add theirs."""

    async def _begin(self) -> None:
        self.session = self._session_factory()
        # Inbox rows wait for the commit, as the outbox's do: one statement for a batch.
        self._applied: list[dict[str, object]] = []
        self.answers = SqlAnswerStore(self.session)
        self.area_settings = SqlAreaSettingsStore(self.session)
        self.notices = SqlNoticeStore(self.session)
        self.audit_trail = SqlAuditTrail(self.session)
        self.open_repositories(self.session)

    async def _end(self) -> None:
        await self.session.close()

    async def _flush(self) -> None:
        await self.session.flush()

    async def already_applied(self, event: CloudEvent) -> bool:
        if any((row["source"], row["event_id"]) == (event.source, event.id)
               for row in self._applied):
            return True
        found = await self.session.get(ProcessedEvent, (event.source, event.id))
        return found is not None

    async def applied_among(self, events: Sequence[CloudEvent]) -> set[tuple[str, str]]:
        if not events:
            return set()
        rows = await self.session.execute(
            select(col(ProcessedEvent.source), col(ProcessedEvent.event_id)).where(
                tuple_(col(ProcessedEvent.source), col(ProcessedEvent.event_id)).in_(
                    [(event.source, event.id) for event in events])))
        return {(source, event_id) for source, event_id in rows.all()}

    async def mark_applied(self, event: CloudEvent) -> None:
        self._applied.append({"source": event.source, "event_id": event.id,
                              "event_type": event.type, "processed_at": utcnow()})

    async def _commit(self, events: list[CloudEvent]) -> None:
        # Core inserts of plain rows: building an ORM object per event cost more than
        # its share of the statement (a burst writes hundreds).
        applied, self._applied = self._applied, []
        await insert_rows(self.session, table_of(ProcessedEvent), applied)
        await insert_rows(self.session, table_of(OutboxMessage),
                          [outbox_row(event) for event in events])
        await self.notices.write()
        await self.audit_trail.write()
        await self.session.commit()

    async def _rollback(self) -> None:
        self._applied = []
        self.notices.forget()
        self.audit_trail.forget()
        await self.session.rollback()


def outbox_row(event: CloudEvent) -> dict[str, object]:
    key, value, headers = to_kafka(event)
    return {"event_id": event.id, "topic": topic_of(event), "key": key, "value": value,
            "headers": [[name, raw.decode()] for name, raw in headers],
            "created_at": utcnow()}


def topic_of(event: CloudEvent) -> str:
    return BY_TYPE[event.type].TOPIC.name
