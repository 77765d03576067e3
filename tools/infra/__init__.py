"""Local infrastructure for development and tests: Kafka, its topics and ACLs, PostgreSQL.

No Docker: Kafka runs from Maven Central jars, PostgreSQL from the OS binaries, both
with their state under <repo>/.cache/. Set KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL to
use existing servers instead; nothing is started then.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tools.infra.kafka import ensure_kafka, stop_kafka
from tools.infra.postgres import create_database, database_url, ensure_postgres, stop_postgres
from tools.infra.topics import ensure_namespace, ensure_topics

SERVICES = ("intake", "capacity", "matching", "reporting")

__all__ = [
    "SERVICES", "Infra", "create_database", "database_url", "ensure_kafka", "ensure_postgres",
    "ensure_namespace", "ensure_topics", "provision", "stop_kafka", "stop_postgres",
]


@dataclass(frozen=True)
class Infra:
    bootstrap_servers: str
    admin_database_url: str
    database_urls: dict[str, str]  # service name -> postgresql+asyncpg:// URL


async def provision(database_suffix: str = "") -> Infra:
    """Ensure Kafka, its topics, PostgreSQL and one database per service (<service><suffix>)."""
    # Both start-ups block on subprocesses; threads let them overlap and keep the loop free.
    bootstrap, admin_url = await asyncio.gather(
        asyncio.to_thread(ensure_kafka), asyncio.to_thread(ensure_postgres)
    )
    await ensure_namespace(bootstrap)  # topics, demo organisers' topics, ACLs
    urls = await asyncio.gather(
        *(create_database(admin_url, f"{service}{database_suffix}") for service in SERVICES)
    )
    return Infra(bootstrap, admin_url, dict(zip(SERVICES, urls, strict=True)))
