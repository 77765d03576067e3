"""loketkit's HTTP edge on a tiny app assembled like a service's: errors mapped once,
naming the field and never a value; a capped body; a 500 that logs no message; /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from contracts.text import CleanInput
from loketkit.errors import Conflict, Invalid, NotFound
from loketkit.http import MAX_BODY_BYTES
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters

PLANTED = ("Mila", "Claes", "26041212345")


class Thing(CleanInput):
    name: str = Field(min_length=1, max_length=50)
    count: int = Field(ge=1, le=10)
    notes: list[str] = Field(default_factory=list, max_length=10_000)


router = APIRouter()


@router.post("/things", status_code=201)
async def create_thing(body: Thing) -> dict[str, int]:
    return {"count": body.count, "notes": len(body.notes)}


@router.get("/things/{thing_id}")
async def read_thing(thing_id: str) -> None:
    raise NotFound("thing_id", "no thing with this id")


@router.post("/things/{thing_id}/closure")
async def close_thing(thing_id: str) -> None:
    raise Conflict("thing_id", "the thing is already closed")


@router.post("/things/{thing_id}/start")
async def start_thing(thing_id: str) -> None:
    raise Invalid("child.birth_date", "lies after the desired start date")


class CheckViolation(Exception):
    sqlstate = "23514"


@router.post("/boom")
async def boom() -> None:
    row = ", ".join(PLANTED)
    orig = CheckViolation(f"DETAIL:  Failing row contains ({row}).")
    raise IntegrityError("INSERT INTO things VALUES ($1, $2, $3)", PLANTED, orig) from orig


def tiny_app() -> FastAPI:
    return assemble(
        ServiceSettings(service_name="tiny"), title="tiny", description="a test app",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=(), routers=[router],
        uow_factory=FakeUnitOfWork, dead_letters=RecordingDeadLetters(),
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tiny_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://tiny") as client:
        yield client


def fields_of(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json().get("fields", [])]


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("GET", "/things/t-1", 404, "thing_id"),
        ("POST", "/things/t-1/closure", 409, "thing_id"),
        ("POST", "/things/t-1/start", 422, "child.birth_date"),
    ],
)
async def test_domain_errors_map_to_their_status_naming_the_field(
    client: httpx.AsyncClient, method: str, path: str, status: int, field: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert fields_of(response) == [field]
    assert response.json()["error"]


async def test_an_invalid_body_is_a_422_naming_each_field_without_echoing_values(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/things", json={"name": f"{PLANTED[0]}\u0000", "count": 99})
    assert response.status_code == 422
    assert sorted(fields_of(response)) == ["count", "name"]
    assert PLANTED[0] not in response.text and "99" not in response.text


async def test_unreadable_json_is_a_422_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", content=b"{not json",
                                 headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert fields_of(response) == ["body"]


def big_body(size: int) -> bytes:
    notes = ",".join(['"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'] * (size // 48 + 1))
    return f'{{"name": "n", "count": 1, "notes": [{notes}]}}'.encode()


async def test_a_body_just_under_the_cap_is_accepted(client: httpx.AsyncClient) -> None:
    body = big_body(MAX_BODY_BYTES - 1000)
    assert len(body) <= MAX_BODY_BYTES
    response = await client.post("/things", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1000, 2 * 1024 * 1024])
async def test_a_body_over_the_cap_is_a_413_when_declared(
    client: httpx.AsyncClient, size: int
) -> None:
    body = big_body(size)
    response = await client.post("/things", content=body,
                                 headers={"content-type": "application/json"})
    assert response.request.headers["content-length"] == str(len(body))
    assert response.status_code == 413
    assert fields_of(response) == ["body"]


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1000, 2 * 1024 * 1024])
async def test_a_body_over_the_cap_is_a_413_when_streamed(
    client: httpx.AsyncClient, size: int
) -> None:
    body = big_body(size)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start:start + 8192]

    response = await client.post("/things", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers  # chunked
    assert response.status_code == 413
    assert fields_of(response) == ["body"]


async def test_an_unexpected_error_is_a_500_logged_by_kind_only(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.post("/boom")
    assert response.status_code == 500
    assert not any(value in response.text for value in PLANTED)
    [line] = [record for record in caplog.records if record.name == "loketkit.http"]
    assert "POST /boom failed: sqlalchemy.exc.IntegrityError (SQLSTATE 23514)" in (
        line.getMessage())
    assert line.exc_info is None  # no traceback carrying the message
    logged = "\n".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    assert not any(value in logged for value in PLANTED), logged


async def test_metrics_are_served_by_prometheus_client_at_exactly_slash_metrics(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "python_info" in response.text or "process_" in response.text
    assert "loket_events_applied" in response.text or "# HELP" in response.text


async def test_health_is_always_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "service": "tiny"}
