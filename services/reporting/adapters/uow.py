"""Reporting's unit of work over SQL: facts plus the inbox, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import CloudEvent
from loketkit.uow import SqlUnitOfWork
from services.reporting.adapters.repository import SqlFactRepository


class SqlReportingUnitOfWork(SqlUnitOfWork):
    facts: SqlFactRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(session_factory, source="/loket/reporting", on_commit=on_commit)

    def open_repositories(self, session: AsyncSession) -> None:
        self.facts = SqlFactRepository(session)

    async def _flush(self) -> None:
        # An event of a batch ends here: nothing reads its rows before the batch
        # commits (facts are write-only for handlers, the inbox is looked up once per
        # batch), so they are all written at the commit, in few statements.
        pass

    async def _commit(self, events: list[CloudEvent]) -> None:
        await self.facts.write()
        await super()._commit(events)
