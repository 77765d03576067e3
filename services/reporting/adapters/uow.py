"""Reporting's unit of work: facts plus the inbox, in one transaction."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.reporting.adapters.repository import SqlFactRepository


class ReportingUnitOfWork(SqlUnitOfWork):
    facts: SqlFactRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/reporting")

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.facts = SqlFactRepository(self.session)
        return self
