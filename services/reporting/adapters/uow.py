"""Reporting's unit of work over SQL: facts plus the inbox, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
