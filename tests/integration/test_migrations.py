"""Every service's migrations build exactly the tables its code declares.

Alembic compares the migrated database with the models (plus the delivery
tables every service has): a column, type, nullability, index or table that
one side has and the other lacks fails here, so a migration cannot drift from
the code.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from loketkit import migrations
from loketkit.db import with_delivery_tables
from tests.conftest import DATABASE_SUFFIX, Servers
from tools.infra import create_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICE_TABLES = {
    "intake": "IntakeTable",
    "capacity": "CapacityTable",
    "matching": "MatchingTable",
    "reporting": "ReportingTable",
}


def declared(service: str) -> MetaData:
    orm = import_module(f"services.{service}.adapters.orm")
    base: Any = getattr(orm, SERVICE_TABLES[service])
    return with_delivery_tables(base.metadata)


@pytest.mark.parametrize("service", sorted(SERVICE_TABLES))
async def test_migrated_database_matches_the_models(servers: Servers, service: str) -> None:
    url = await create_database(
        servers.admin_url, f"{service}_schema{DATABASE_SUFFIX}", drop_existing=True)
    await migrations.upgrade(url, ROOT / "services" / service / "migrations")
    metadata = declared(service)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: migrations and models disagree:\n" + "\n".join(map(str, diff))
