"""Matching's SQL unit of work: its repositories, outbox and inbox in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.matching.adapters.repository import (
    SqlClosureRepository,
    SqlLocationRepository,
    SqlMatchRepository,
    SqlPlaceRepository,
    SqlRankingRepository,
    SqlRequestRepository,
    SqlRoundRepository,
)


class SqlMatchingUnitOfWork(SqlUnitOfWork):
    requests: SqlRequestRepository
    places: SqlPlaceRepository
    matches: SqlMatchRepository
    closures: SqlClosureRepository
    locations: SqlLocationRepository
    rankings: SqlRankingRepository
    rounds: SqlRoundRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(session_factory, source="/loket/matching", on_commit=on_commit)

    def open_repositories(self, session: AsyncSession) -> None:
        self.requests = SqlRequestRepository(session)
        self.places = SqlPlaceRepository(session)
        self.matches = SqlMatchRepository(session)
        self.closures = SqlClosureRepository(session)
        self.locations = SqlLocationRepository(session)
        self.rankings = SqlRankingRepository(session)
        self.rounds = SqlRoundRepository(session)
