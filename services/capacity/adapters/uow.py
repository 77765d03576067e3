"""Capacity's unit of work: locations, places and closures, plus outbox and inbox, in one
transaction."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.capacity.adapters.repository import (
    SqlClosureRepository,
    SqlFreePlaceRepository,
    SqlLocationRepository,
)


class CapacityUnitOfWork(SqlUnitOfWork):
    locations: SqlLocationRepository
    places: SqlFreePlaceRepository
    closures: SqlClosureRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/capacity")

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.locations = SqlLocationRepository(self.session)
        self.places = SqlFreePlaceRepository(self.session)
        self.closures = SqlClosureRepository(self.session)
        return self
