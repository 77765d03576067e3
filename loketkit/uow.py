"""Unit of work: one transaction for the state change, the events it emits
(outbox) and the id of the event that caused it (inbox).

Handlers only see `emit`, `already_applied`, `mark_applied` and `commit`, plus
the repositories a service adds. The SQL version writes all of it in one
PostgreSQL transaction; the in-memory version backs the unit tests.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import BY_TYPE, CloudEvent, EventData, new_event, to_kafka
from loketkit.db import OutboxMessage, ProcessedEvent


class UnitOfWork(abc.ABC):
    source: str = "/loket"

    def __init__(self) -> None:
        self.pending_events: list[CloudEvent] = []

    def emit(self, data: EventData, caused_by: CloudEvent | None = None) -> CloudEvent:
        event = new_event(data, source=self.source, caused_by=caused_by)
        self.pending_events.append(event)
        return event

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    @abc.abstractmethod
    async def already_applied(self, event_id: str) -> bool: ...

    @abc.abstractmethod
    async def mark_applied(self, event: CloudEvent) -> None: ...

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None: ...


class SqlUnitOfWork(UnitOfWork):
    """Subclasses add repositories over `self.session` in `__aenter__`."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], source: str) -> None:
        super().__init__()
        self._session_factory = session_factory
        self.source = source
        self.committed_events: list[CloudEvent] = []

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self.pending_events = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()
        await self.session.close()

    async def already_applied(self, event_id: str) -> bool:
        found = await self.session.execute(
            select(ProcessedEvent.event_id).where(ProcessedEvent.event_id == event_id)
        )
        return found.first() is not None

    async def mark_applied(self, event: CloudEvent) -> None:
        self.session.add(ProcessedEvent(event_id=event.id, event_type=event.type))

    async def commit(self) -> None:
        for event in self.pending_events:
            key, value, headers = to_kafka(event)
            self.session.add(
                OutboxMessage(
                    event_id=event.id,
                    topic=topic_of(event),
                    key=key,
                    value=value,
                    headers=[[name, raw.decode()] for name, raw in headers],
                )
            )
        await self.session.commit()
        self.committed_events = self.pending_events
        self.pending_events = []

    async def rollback(self) -> None:
        self.pending_events = []
        await self.session.rollback()


def topic_of(event: CloudEvent) -> str:
    return BY_TYPE[event.type].TOPIC.name
