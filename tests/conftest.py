"""Test session infrastructure: the real Kafka broker and PostgreSQL, provisioned here.

Unit tests never touch these fixtures. Integration and end-to-end tests ask for
`infra` or `e2e_infra`, which start (or reuse) the local broker and database
server, create the declared topics and give the tests fresh databases. What
the session started, it stops at the end. Nothing is skipped: if the
infrastructure cannot start, the tests fail with its error.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from loketkit.kafka_security import KafkaSecurity
from tools.infra import (
    Infra,
    create_database,
    ensure_kafka,
    ensure_namespace,
    ensure_postgres,
    stop_kafka,
    stop_postgres,
)
from tools.infra.kafka import broker_answers
from tools.infra.kafka_principals import ADMIN_SECURITY
from tools.infra.keycloak import ensure_keycloak, keycloak_answers, stop_keycloak
from tools.infra.postgres import port, server_ready
from tools.mailsink import MailSink

SERVICES = ("intake", "capacity", "matching", "reporting")


@dataclass(frozen=True)
class Servers:
    bootstrap: str
    admin_url: str
    # Tests act as outside systems, signed in as the local admin (see tools.infra.kafka_acls).
    security: KafkaSecurity = ADMIN_SECURITY

    def kafka_settings(self, security: KafkaSecurity | None = None) -> dict[str, Any]:
        """ServiceSettings keywords for this broker, signed in as `security` (the admin)."""
        signed_in = security or self.security
        return {"kafka_bootstrap_servers": self.bootstrap,
                "kafka_security_protocol": signed_in.protocol,
                "kafka_sasl_mechanism": signed_in.mechanism,
                "kafka_username": signed_in.username, "kafka_password": signed_in.password}


@pytest.fixture(scope="session")
async def servers() -> AsyncIterator[Servers]:
    kafka_was_up = bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS")) or broker_answers(
        "127.0.0.1:9092")
    postgres_was_up = bool(os.environ.get("DATABASE_URL")) or server_ready("127.0.0.1", port())
    bootstrap, admin_url = await asyncio.gather(
        asyncio.to_thread(ensure_kafka), asyncio.to_thread(ensure_postgres)
    )
    await ensure_namespace(bootstrap)  # the declared topics, demo organisers' topics, ACLs
    yield Servers(bootstrap, admin_url)
    if not kafka_was_up:
        stop_kafka()
    if not postgres_was_up:
        stop_postgres()


async def fresh_infra(servers: Servers, suffix: str) -> Infra:
    urls = [await create_database(servers.admin_url, f"{name}{suffix}", drop_existing=True)
            for name in SERVICES]
    return Infra(servers.bootstrap, servers.admin_url, dict(zip(SERVICES, urls, strict=True)))


# Several test runs may share one server (a developer's and CI's, say): each names its own.
DATABASE_SUFFIX = os.environ.get("LOKET_TEST_DB_SUFFIX", "")


@pytest.fixture(scope="session")
async def infra(servers: Servers) -> Infra:
    return await fresh_infra(servers, f"_it{DATABASE_SUFFIX}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    """An SMTP sink for the session (port from LOKET_TEST_SMTP_PORT, else a free one);
    services under test get `SMTP_PORT=<mail_sink.port>`."""
    sink = MailSink().start(int(os.environ.get("LOKET_TEST_SMTP_PORT") or free_port()))
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[str]:
    """The real OpenID Connect provider (Keycloak with the demo realm), one per test
    session; its issuer URL. Stopped at the end only if this session started it."""
    was_up = bool(os.environ.get("OIDC_ISSUER")) or keycloak_answers()
    issuer = ensure_keycloak()
    yield issuer
    if not was_up:
        stop_keycloak()
