"""The four services as separate OS processes against the real broker and database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DATABASE_SUFFIX, Servers, fresh_infra
from tests.e2e.support import TOPIC_PREFIX, RouteAccounts
from tests.kafka_helpers import delete_topics
from tools.infra import Infra, ensure_namespace
from tools.infra.kafka_acls import revoke_acls
from tools.infra.secrets import local_secrets
from tools.infra.tokens import TokenSource, signed_in_as
from tools.mailsink import MailSink
from tools.processes import ServiceProcess, service_processes, start_all, stop_all

# LOKET_E2E_PORT_BASE lets two test runs on one machine use different ports.
PORT_BASE = int(os.environ.get("LOKET_E2E_PORT_BASE", "18000"))
E2E_PORTS = {name: PORT_BASE + n for n, name in
             enumerate(("intake", "capacity", "matching", "reporting"), start=1)}
LOG_DIR = Path(__file__).resolve().parents[2] / ".cache" / "logs" / f"e2e{DATABASE_SUFFIX}"


@pytest.fixture(scope="session")
async def e2e_infra(servers: Servers) -> AsyncIterator[Infra]:
    infra = await fresh_infra(servers, f"_e2e{DATABASE_SUFFIX}")
    # the declared topics, the demo organisers' own topics and the ACLs, namespaced
    topics = await ensure_namespace(infra.bootstrap_servers, TOPIC_PREFIX)
    yield infra
    await delete_topics(infra.bootstrap_servers, [spec.name for spec in topics])
    await asyncio.to_thread(revoke_acls, infra.bootstrap_servers, TOPIC_PREFIX)


@pytest.fixture(scope="session")
def system(
    e2e_infra: Infra, mail_sink: MailSink, identity_provider: str
) -> Iterator[dict[str, ServiceProcess]]:
    services = service_processes(
        e2e_infra, LOG_DIR, E2E_PORTS,
        # short backoff so dead-letter tests stay quick; outbox polls often; deadlines and
        # mail are looked at every half second; mail goes to the session's SMTP sink
        {"HANDLER_BACKOFF_SECONDS": "0.05", "OUTBOX_POLL_SECONDS": "0.1",
         "KAFKA_TOPIC_PREFIX": TOPIC_PREFIX, "JOBS_INTERVAL_SECONDS": "0.5",
         "SMTP_PORT": str(mail_sink.port), "OIDC_ISSUER": identity_provider,
         **local_secrets()},
    )
    for log in LOG_DIR.glob("*.log"):
        log.unlink()
    start_all(services)
    yield services
    stop_all(services)


@pytest.fixture(scope="session")
def tokens(identity_provider: str) -> TokenSource:
    return TokenSource(identity_provider)


@pytest.fixture
def http(tokens: TokenSource) -> Iterator[httpx.Client]:
    """A client that signs each request in as the person a real user of the route is."""
    auth = signed_in_as(tokens, RouteAccounts(E2E_PORTS).account)
    with httpx.Client(timeout=15, auth=auth) as client:
        yield client
