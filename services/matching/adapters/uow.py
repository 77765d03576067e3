"""Matching's unit of work: its state, outbox and inbox in one transaction."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.matching.adapters.repository import SqlMatchingRepository


class MatchingUnitOfWork(SqlUnitOfWork):
    state: SqlMatchingRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/matching")

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.state = SqlMatchingRepository(self.session)
        return self
