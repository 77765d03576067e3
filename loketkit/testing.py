"""In-memory unit of work for unit tests: records emitted events and applied ids.

Services subclass it and attach fake repositories (cosmicpython's FakeUnitOfWork).
"""

from __future__ import annotations

from contracts import CloudEvent, EventData, parse_data
from loketkit.uow import UnitOfWork


class FakeUnitOfWork(UnitOfWork):
    source = "/loket/test"

    def __init__(self) -> None:
        super().__init__()
        self.published: list[CloudEvent] = []  # what the outbox would hold
        self.applied: set[str] = set()
        self._applied_pending: set[str] = set()
        self.commits = 0

    async def already_applied(self, event_id: str) -> bool:
        return event_id in self.applied

    async def mark_applied(self, event: CloudEvent) -> None:
        self._applied_pending.add(event.id)

    async def commit(self) -> None:
        self.published.extend(self.pending_events)
        self.applied |= self._applied_pending
        self.pending_events = []
        self._applied_pending = set()
        self.commits += 1

    async def rollback(self) -> None:
        self.pending_events = []
        self._applied_pending = set()

    def published_data(self) -> list[EventData]:
        return [parse_data(event) for event in self.published]
