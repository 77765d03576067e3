"""The local infrastructure really comes up: Kafka with every declared topic, PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import TOPICS
from tests.conftest import Servers
from tools.infra import create_database, ensure_topics
from tools.infra.kafka_principals import ADMIN_SECURITY

pytestmark = pytest.mark.integration


async def test_kafka_has_every_declared_topic_with_its_partitions(servers: Servers) -> None:
    bootstrap = servers.bootstrap
    await ensure_topics(bootstrap)
    await ensure_topics(bootstrap)  # idempotent: a second run leaves the topics alone

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **ADMIN_SECURITY.aiokafka())
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([t.name for t in TOPICS])}
    finally:
        await admin.close()
    for spec in TOPICS:
        assert described[spec.name]["error_code"] == 0, spec.name
        assert len(described[spec.name]["partitions"]) == spec.partitions, spec.name


async def test_created_database_is_fresh_and_kept_unless_dropped(servers: Servers) -> None:
    admin_url = servers.admin_url
    url = await create_database(admin_url, "infra_selftest", drop_existing=True)
    assert url.startswith("postgresql+asyncpg://") and url.endswith("/infra_selftest")

    async def tables() -> list[str]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            return [row["tablename"] for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        finally:
            await conn.close()

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("CREATE TABLE marker (id int)")
    finally:
        await conn.close()
    assert await create_database(admin_url, "infra_selftest") == url  # exists: no error
    assert await tables() == ["marker"], "without drop_existing the data stays"
    await create_database(admin_url, "infra_selftest", drop_existing=True)
    assert await tables() == [], "drop_existing starts from an empty database"
