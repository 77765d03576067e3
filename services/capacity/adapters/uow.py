"""Capacity's unit of work: locations, places, offers, enrolments and closures, plus
outbox, inbox and notices, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.capacity.adapters.repository import (
    SqlClosureRepository,
    SqlEnrolmentRepository,
    SqlFreePlaceRepository,
    SqlLocationRepository,
    SqlOfferRepository,
)


class SqlCapacityUnitOfWork(SqlUnitOfWork):
    locations: SqlLocationRepository
    places: SqlFreePlaceRepository
    enrolments: SqlEnrolmentRepository
    offers: SqlOfferRepository
    closures: SqlClosureRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(session_factory, source="/loket/capacity", on_commit=on_commit)

    def open_repositories(self, session: AsyncSession) -> None:
        self.locations = SqlLocationRepository(session)
        self.places = SqlFreePlaceRepository(session)
        self.enrolments = SqlEnrolmentRepository(session)
        self.offers = SqlOfferRepository(session)
        self.closures = SqlClosureRepository(session)
