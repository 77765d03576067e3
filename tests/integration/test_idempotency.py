"""Retried POSTs do not create twins, against PostgreSQL: the stored answer is written in
the transaction of the effect, so two concurrent first calls with one key make one effect
and both callers get the same answer."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry
from sqlmodel import Field as Column
from sqlmodel import SQLModel, col

from contracts.text import CleanInput
from loketkit.db import StoredAnswer
from loketkit.idempotency import IdempotencyDep
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.testing import RecordingDeadLetters
from loketkit.uow import SqlUnitOfWork, UnitOfWork
from tests.conftest import Servers
from tests.integration.scratch import scratch_database

pytestmark = pytest.mark.integration


class ThingTable(SQLModel, registry=registry()):
    """The test's own tables besides the delivery tables."""


class Thing(ThingTable, table=True):
    __tablename__ = "things"

    thing_id: str = Column(primary_key=True, max_length=64)
    name: str = Column(max_length=50)


class ThingsUnitOfWork(SqlUnitOfWork):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory, source="/loket/idempotency-it")


class ThingCreate(CleanInput):
    name: str = Field(min_length=1, max_length=50)


class ThingPublic(BaseModel):
    thing_id: str
    name: str


_numbers = itertools.count(1)
RUNS: Counter[str] = Counter()  # command runs per name, committed or not


async def create_thing(body: ThingCreate, uow: ThingsUnitOfWork) -> ThingPublic:
    RUNS[body.name] += 1
    async with uow:
        thing = Thing(thing_id=f"thing-{next(_numbers)}", name=body.name)
        uow.session.add(thing)
        await uow.commit()
        # Widen the window in which a concurrent first call runs its own command too.
        await asyncio.sleep(0.3)
    return ThingPublic(thing_id=thing.thing_id, name=thing.name)


router = APIRouter()


@router.post("/things", status_code=201)
async def post_thing(body: ThingCreate, once: IdempotencyDep) -> JSONResponse:
    async def call(uow: UnitOfWork) -> ThingPublic:
        assert isinstance(uow, ThingsUnitOfWork)
        return await create_thing(body, uow)

    return await once.run(body, call, lambda thing: thing)


@pytest.fixture(scope="module")
async def things_db(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with scratch_database(servers.admin_url, "idempotency_it",
                                ThingTable.metadata) as (_, sessions):
        yield sessions


@pytest.fixture
async def client(
    things_db: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = assemble(
        ServiceSettings(service_name="things"), title="things", description="a test app",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=(), routers=[router],
        uow_factory=lambda: ThingsUnitOfWork(things_db), dead_letters=RecordingDeadLetters(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://things") as client:
        yield client


async def count_things(things_db: async_sessionmaker[AsyncSession], name: str) -> int:
    async with things_db() as session:
        found = await session.scalar(
            select(func.count()).select_from(Thing).where(col(Thing.name) == name))
    return int(found or 0)


async def test_two_concurrent_first_calls_with_one_key_make_one_effect_and_one_answer(
    client: httpx.AsyncClient, things_db: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Idempotency-Key": "concurrent-1"}
    first, second = await asyncio.gather(
        client.post("/things", json={"name": "concurrent"}, headers=headers),
        client.post("/things", json={"name": "concurrent"}, headers=headers),
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    replayed = sorted(str(r.headers.get("Idempotent-Replayed")) for r in (first, second))
    assert replayed == ["None", "true"]
    assert RUNS["concurrent"] == 2, "both calls ran the command: the race really happened"
    assert await count_things(things_db, "concurrent") == 1


async def test_a_retry_replays_and_another_body_is_refused(
    client: httpx.AsyncClient, things_db: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post("/things", json={"name": "retried"}, headers=headers)
    again = await client.post("/things", json={"name": "retried"}, headers=headers)
    other = await client.post("/things", json={"name": "another"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert [item["field"] for item in other.json()["fields"]] == ["Idempotency-Key"]
    assert await count_things(things_db, "retried") == 1
    assert await count_things(things_db, "another") == 0


async def test_an_expired_key_makes_way_for_a_new_answer(
    client: httpx.AsyncClient, things_db: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Idempotency-Key": "expiring-1"}
    first = await client.post("/things", json={"name": "expiring"}, headers=headers)
    async with things_db() as session:
        await session.execute(
            update(StoredAnswer).where(col(StoredAnswer.key) == "expiring-1")
            .values(created_at=StoredAnswer.created_at - timedelta(days=1, minutes=1)))
        await session.commit()
    again = await client.post("/things", json={"name": "expiring"}, headers=headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["thing_id"] != first.json()["thing_id"]
    assert await count_things(things_db, "expiring") == 2
