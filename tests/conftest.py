"""Test session infrastructure: the real Kafka broker and PostgreSQL, provisioned here.

Unit tests never touch these fixtures. Integration and end-to-end tests ask for
`infra`, which starts (or reuses) the local broker and database server, creates
the declared topics, and gives each test module fresh databases. Nothing is
skipped: if the infrastructure cannot start, the tests fail with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tools.infra import Infra, create_database, ensure_kafka, ensure_postgres, ensure_topics


async def fresh_infra(suffix: str, services: tuple[str, ...]) -> Infra:
    bootstrap, admin_url = await asyncio.gather(
        asyncio.to_thread(ensure_kafka), asyncio.to_thread(ensure_postgres)
    )
    await ensure_topics(bootstrap)
    urls = [await create_database(admin_url, f"{name}{suffix}", drop_existing=True)
            for name in services]
    return Infra(bootstrap, admin_url, dict(zip(services, urls, strict=True)))


@pytest.fixture(scope="session")
async def infra() -> AsyncIterator[Infra]:
    yield await fresh_infra("_it", ("intake", "capacity", "matching", "reporting"))
