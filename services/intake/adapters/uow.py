"""Intake's unit of work: requests (with offers), locations, audit log and imports,
plus outbox and inbox, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.uow import SqlUnitOfWork
from services.intake.adapters.repository import (
    SqlAuditRepository,
    SqlImportRepository,
    SqlLocationRepository,
    SqlPersonalLinkRepository,
    SqlRequestRepository,
)


class SqlIntakeUnitOfWork(SqlUnitOfWork):
    requests: SqlRequestRepository
    locations: SqlLocationRepository
    audit: SqlAuditRepository
    imports: SqlImportRepository
    personal_links: SqlPersonalLinkRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(session_factory, source="/loket/intake", on_commit=on_commit)

    def open_repositories(self, session: AsyncSession) -> None:
        self.requests = SqlRequestRepository(session)
        self.locations = SqlLocationRepository(session)
        self.audit = SqlAuditRepository(session)
        self.imports = SqlImportRepository(session)
        self.personal_links = SqlPersonalLinkRepository(session)
