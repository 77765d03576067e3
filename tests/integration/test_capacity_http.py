"""Capacity's routes over PostgreSQL (no broker: events stay in the outbox): what a
retried POST and a NUL in a name do against the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import OutboxMessage, make_engine, make_session_factory
from loketkit.ids import utcnow
from loketkit.testing import RecordingDeadLetters
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS, bootstrap
from services.capacity.settings import CapacitySettings
from tools.infra import Infra

pytestmark = pytest.mark.integration

LOCATION = {"name": "De Bolleboos", "municipality_nis": "13008", "postcode": "2440",
            "capacity": 3, "subsidy_tier": "plus"}
NEXT_MONTH = str(date.today() + timedelta(days=30))


@dataclass
class Capacity:
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]

    async def outbox_rows(self) -> int:
        async with self.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return int(count or 0)


@pytest.fixture(scope="module")
async def capacity(infra: Infra) -> AsyncIterator[Capacity]:
    url = infra.database_urls["capacity"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(
            "TRUNCATE closures, free_places, locations, outbox, idempotency_keys"))
    session_factory = make_session_factory(engine)
    app = bootstrap(
        CapacitySettings(database_url=url),
        uow_factory=lambda: SqlCapacityUnitOfWork(session_factory),
        dead_letters=RecordingDeadLetters(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://capacity") as client:
        yield Capacity(client, session_factory)
    await engine.dispose()


async def test_retried_posts_create_one_location_and_one_set_of_places(
    capacity: Capacity,
) -> None:
    http = capacity.http
    key = {"Idempotency-Key": f"it-{utcnow().timestamp()}"}
    first = await http.post("/locations", json=LOCATION, headers=key)
    retried = await http.post("/locations", json=LOCATION, headers=key)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert await capacity.outbox_rows() == 1

    places = f"/locations/{first.json()['location_id']}/free-places"
    body = {"available_from": NEXT_MONTH, "count": 2}
    places_key = {"Idempotency-Key": key["Idempotency-Key"] + "-places"}
    freed = await http.post(places, json=body, headers=places_key)
    again = await http.post(places, json=body, headers=places_key)
    assert (freed.status_code, again.json()) == (201, freed.json())
    assert await capacity.outbox_rows() == 3
    listed = (await http.get(f"/locations/{first.json()['location_id']}")).json()
    assert listed["open_free_places"] == 2

    closure = {"reason": "bankruptcy", "effective_from": NEXT_MONTH}
    closed = await http.post(f"/locations/{first.json()['location_id']}/closure", json=closure)
    assert closed.json()["cancelled_place_ids"] == sorted(freed.json()["place_ids"])


async def test_a_nul_in_the_name_is_a_422_not_a_database_error(capacity: Capacity) -> None:
    refused = await capacity.http.post("/locations", json=LOCATION | {"name": "Bolle\u0000boos"})
    assert refused.status_code == 422
    assert [item["field"] for item in refused.json()["fields"]] == ["name"]
