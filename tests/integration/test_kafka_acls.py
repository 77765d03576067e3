"""Organiser identity on the real broker: SASL/SCRAM sign-in and the ACL table.

An unauthenticated client gets nowhere; an organiser's system writes only its own
inbound topic; no service but capacity writes loket.capacity.v1. Then capacity,
signed in as itself and subscribed by pattern, reads the organisers' topics and
accepts an announcement only from the topic of the location's organiser.
Each module run uses its own topic namespace (and removes its ACLs afterwards).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from fastapi import FastAPI

from contracts import new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import (
    CAPACITY,
    DEAD_LETTER,
    REQUESTS,
    organiser_inbound_topic,
)
from loketkit.kafka_security import KafkaSecurity
from services.capacity.adapters.repository import SqlLocationRepository
from services.capacity.bootstrap import bootstrap
from services.capacity.domain.model import Location
from services.capacity.settings import CapacitySettings
from tests.conftest import Servers
from tests.kafka_helpers import collect, delete_topics
from tools.infra import Infra
from tools.infra.kafka_acls import revoke_acls
from tools.infra.kafka_principals import security
from tools.infra.topics import ensure_namespace

pytestmark = pytest.mark.integration

ZONNEKE, BOLLEBOOS = "org-zonneke", "org-bolleboos"


@pytest.fixture(scope="module")
async def prefix(servers: Servers) -> AsyncIterator[str]:
    """A namespace of its own: topics, demo organisers' topics and ACLs."""
    name = f"acl{uuid.uuid4().hex[:6]}."
    topics = await ensure_namespace(servers.bootstrap, name)
    yield name
    await delete_topics(servers.bootstrap, [topic.name for topic in topics])
    revoke_acls(servers.bootstrap, name)


async def produce(bootstrap: str, signed_in: KafkaSecurity | None, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=10_000,
                                **(signed_in.aiokafka() if signed_in else {}))
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"kempen-gml")
    finally:
        await producer.stop()


async def test_a_client_that_does_not_sign_in_cannot_even_connect(
    servers: Servers, prefix: str
) -> None:
    with pytest.raises(KafkaConnectionError):
        await produce(servers.bootstrap, None, f"{prefix}{CAPACITY.name}")


@pytest.mark.parametrize("topic", [CAPACITY.name, REQUESTS.name,
                                   organiser_inbound_topic(BOLLEBOOS)])
async def test_an_organiser_writes_nowhere_but_its_own_topic(
    servers: Servers, prefix: str, topic: str
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(servers.bootstrap, security(ZONNEKE), f"{prefix}{topic}")
    await produce(servers.bootstrap, security(ZONNEKE), organiser_inbound_topic(ZONNEKE, prefix))


async def test_only_capacity_writes_the_capacity_topic(servers: Servers, prefix: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(servers.bootstrap, security("matching"), f"{prefix}{CAPACITY.name}")
    await produce(servers.bootstrap, security("capacity"), f"{prefix}{CAPACITY.name}")


# ---- capacity reads every organiser's topic, and believes each only for its own ----------


@pytest.fixture(scope="module")
async def capacity(servers: Servers, infra: Infra, prefix: str) -> AsyncIterator[FastAPI]:
    settings = CapacitySettings(
        database_url=infra.database_urls["capacity"], kafka_topic_prefix=prefix,
        handler_backoff_seconds=0, kafka_metadata_max_age_ms=2_000,
        **servers.kafka_settings(security("capacity")),
    )
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        yield app


def announcement(location_id: str) -> PlaceFreed:
    return PlaceFreed(
        service_area="kempen-gml", place_id=f"org-{uuid.uuid4().hex[:10]}",
        location_id=location_id, municipality_nis="13053",
        available_from=date.today() + timedelta(days=40), day_parts=["mon_am", "mon_pm"],
        min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC))


async def announce(servers: Servers, organiser: str, prefix: str, data: PlaceFreed) -> str:
    event = new_event(data, source=f"urn:organiser:{organiser}")
    key, value, headers = to_kafka(event)
    producer = AIOKafkaProducer(bootstrap_servers=servers.bootstrap, acks="all",
                                **security(organiser).aiokafka())
    await producer.start()
    try:
        await producer.send_and_wait(organiser_inbound_topic(organiser, prefix), value, key=key,
                                     headers=headers)
    finally:
        await producer.stop()
    return event.id


async def test_capacity_accepts_an_announcement_only_from_the_locations_organiser(
    servers: Servers, prefix: str, capacity: FastAPI
) -> None:
    location_id = f"loc-acl-{uuid.uuid4().hex[:8]}"
    async with capacity.state.infra.session_factory() as session, session.begin():
        await SqlLocationRepository(session).add(Location(
            location_id=location_id, service_area="kempen-gml", name="De Zonneke",
            municipality_nis="13053", postcode="2430", capacity=10, subsidy_tier="plus",
            organiser_id=ZONNEKE), registered_at=datetime.now(UTC))

    foreign = announcement(location_id)
    foreign_id = await announce(servers, BOLLEBOOS, prefix, foreign)
    [letter] = await collect(servers.bootstrap, f"{prefix}{DEAD_LETTER.name}",
                             lambda r: r.headers.get("ce_id") == foreign_id, until=bool)
    assert letter.headers["dlq_reason"] == (
        f"field 'data.location_id': location of another organiser ({ZONNEKE})")
    assert letter.headers["dlq_original_topic"] == organiser_inbound_topic(BOLLEBOOS, prefix)

    own = announcement(location_id)
    await announce(servers, ZONNEKE, prefix, own)
    [republished] = await collect(
        servers.bootstrap, f"{prefix}{CAPACITY.name}",
        lambda r: r.headers.get("ce_type") == PlaceFreed.event_type()
        and r.headers.get("ce_subject") in (own.place_id, foreign.place_id), until=bool,
        settle=1.0)
    assert republished.data() == own
    assert republished.headers["ce_source"] == "/loket/capacity"
