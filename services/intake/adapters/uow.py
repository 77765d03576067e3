"""Intake's unit of work: requests and locations, plus outbox and inbox, in one transaction."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.intake.adapters.repository import SqlLocationRepository, SqlRequestRepository


class IntakeUnitOfWork(SqlUnitOfWork):
    requests: SqlRequestRepository
    locations: SqlLocationRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/intake")

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.requests = SqlRequestRepository(self.session)
        self.locations = SqlLocationRepository(self.session)
        return self
