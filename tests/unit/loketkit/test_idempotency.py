"""Retried POSTs do not create twins: the Idempotency-Key header, over the fake unit of work."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.text import CleanInput
from loketkit.errors import Invalid
from loketkit.idempotency import IdempotencyDep
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters
from loketkit.uow import UnitOfWork


class ThingsUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.things: list[str] = []


class ThingCreate(CleanInput):
    name: str = Field(min_length=1, max_length=50)


class ThingPublic(BaseModel):
    thing_id: str
    name: str


_numbers = itertools.count(1)


async def create_thing(body: ThingCreate, uow: ThingsUnitOfWork) -> ThingPublic:
    """A handler as services write them: its own unit of work, its own commit."""
    async with uow:
        if body.name == "refused":
            raise Invalid("name", "this name is refused")
        thing = ThingPublic(thing_id=f"thing-{next(_numbers)}", name=body.name)
        uow.things.append(thing.thing_id)
        await uow.commit()
    return thing


router = APIRouter()


@router.post("/things", status_code=201)
async def post_thing(body: ThingCreate, once: IdempotencyDep) -> JSONResponse:
    async def call(uow: UnitOfWork) -> ThingPublic:
        assert isinstance(uow, ThingsUnitOfWork)
        return await create_thing(body, uow)

    return await once.run(body, call, lambda thing: thing)


@router.post("/other-things", status_code=201)
async def post_other_thing(body: ThingCreate, once: IdempotencyDep) -> JSONResponse:
    async def call(uow: UnitOfWork) -> ThingPublic:
        assert isinstance(uow, ThingsUnitOfWork)
        return await create_thing(body, uow)

    return await once.run(body, call, lambda thing: thing)


@pytest.fixture
def uow() -> ThingsUnitOfWork:
    return ThingsUnitOfWork()


@pytest.fixture
async def client(uow: ThingsUnitOfWork) -> AsyncIterator[httpx.AsyncClient]:
    app = assemble(
        ServiceSettings(service_name="things"), title="things", description="a test app",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=(), routers=[router],
        uow_factory=lambda: uow, dead_letters=RecordingDeadLetters(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://things") as client:
        yield client


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    first = await client.post("/things", json={"name": "a"}, headers=key("k-1"))
    again = await client.post("/things", json={"name": "a"}, headers=key("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(uow.things) == 1


async def test_the_same_key_with_another_body_is_a_422_naming_the_header(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    await client.post("/things", json={"name": "a"}, headers=key("k-2"))
    other = await client.post("/things", json={"name": "b"}, headers=key("k-2"))
    assert other.status_code == 422
    assert [item["field"] for item in other.json()["fields"]] == ["Idempotency-Key"]
    assert len(uow.things) == 1


async def test_the_same_key_on_another_route_is_a_422(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    await client.post("/things", json={"name": "a"}, headers=key("k-3"))
    other = await client.post("/other-things", json={"name": "a"}, headers=key("k-3"))
    assert other.status_code == 422
    assert len(uow.things) == 1


async def test_without_a_key_every_call_runs(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    first = await client.post("/things", json={"name": "a"})
    again = await client.post("/things", json={"name": "a"})
    assert first.status_code == again.status_code == 201
    assert first.json()["thing_id"] != again.json()["thing_id"]
    assert "idempotent-replayed" not in again.headers
    assert len(uow.things) == 2


async def test_an_expired_key_runs_again(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    first = await client.post("/things", json={"name": "a"}, headers=key("k-4"))
    [stored] = uow.answers.rows.values()
    stored.created_at -= timedelta(days=1, minutes=1)
    again = await client.post("/things", json={"name": "a"}, headers=key("k-4"))
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["thing_id"] != first.json()["thing_id"]
    assert len(uow.things) == 2
    replayed = await client.post("/things", json={"name": "a"}, headers=key("k-4"))
    assert replayed.json() == again.json()  # the new answer is the one kept


async def test_a_refused_command_stores_no_answer(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork
) -> None:
    refused = await client.post("/things", json={"name": "refused"}, headers=key("k-5"))
    assert refused.status_code == 422
    assert uow.answers.rows == {}
    assert [item["field"] for item in refused.json()["fields"]] == ["name"]


@pytest.mark.parametrize("value", ["", "with space", "x" * 201, "caf\u00e9"])
async def test_a_malformed_key_is_a_422_naming_the_header(
    client: httpx.AsyncClient, uow: ThingsUnitOfWork, value: str
) -> None:
    response = await client.post("/things", json={"name": "a"},
                                 headers={b"Idempotency-Key": value.encode("utf-8")})
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["fields"]] == ["Idempotency-Key"]
    assert uow.things == []
