"""A database of a test module's own, made fresh: the delivery tables every service has
(outbox, inbox, notices, audit, ...) and the test's own tables, straight from metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.db import DeliveryTable, make_engine, make_session_factory
from tests.conftest import DATABASE_SUFFIX
from tools.infra.postgres import create_database


@asynccontextmanager
async def scratch_database(admin_url: str, name: str, *tables: MetaData
                           ) -> AsyncIterator[tuple[str, async_sessionmaker[AsyncSession]]]:
    """(url, sessions) of database `name` (this run's suffix added), dropped first if a
    run left it; its engine is disposed of at the end."""
    url = await create_database(admin_url, f"{name}{DATABASE_SUFFIX}", drop_existing=True)
    engine = make_engine(url)
    async with engine.begin() as connection:
        for metadata in (DeliveryTable.metadata, *tables):
            await connection.run_sync(metadata.create_all)
    try:
        yield url, make_session_factory(engine)
    finally:
        await engine.dispose()
