"""Capacity's HTTP routes over in-memory fakes: status codes and the field at fault."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from loketkit.http import validation_error
from services.capacity.entrypoints.http import router
from services.capacity.settings import CapacitySettings
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

NEXT_MONTH = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
LOCATION = {"location_id": "loc-a", "name": "De Bolleboos", "municipality_nis": "13008",
            "postcode": "2440", "capacity": 2, "subsidy_tier": "plus"}


class FakeContext:
    """Stands in for CapacityContext: the same uow() and events_committed()."""

    def __init__(self) -> None:
        self.settings = CapacitySettings()
        self.unit_of_work = FakeCapacityUnitOfWork()
        self.wakes = 0

    def uow(self) -> FakeCapacityUnitOfWork:
        return self.unit_of_work

    def events_committed(self) -> None:
        self.wakes += 1


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.state.context = FakeContext()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://capacity") as client:
        yield client


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


async def test_register_then_read_a_location(client: httpx.AsyncClient) -> None:
    created = await client.post("/locations", json=LOCATION)
    assert created.status_code == 201
    assert created.json()["max_age_months"] == 36
    assert (await client.get("/locations/loc-a")).json() == created.json()
    listed = (await client.get("/locations")).json()
    assert [location["location_id"] for location in listed] == ["loc-a"]
    generated = await client.post("/locations", json=LOCATION | {"location_id": None})
    assert generated.json()["location_id"].startswith("loc-")


async def test_bad_input_names_the_field(client: httpx.AsyncClient) -> None:
    assert (await client.post("/locations", json=LOCATION)).status_code == 201
    duplicate = await client.post("/locations", json=LOCATION)
    assert (duplicate.status_code, fields(duplicate)) == (409, ["location_id"])
    elsewhere = LOCATION | {"location_id": "loc-b", "municipality_nis": "11002"}
    outside = await client.post("/locations", json=elsewhere)
    assert (outside.status_code, fields(outside)) == (422, ["municipality_nis"])
    malformed = LOCATION | {"subsidy_tier": "gold", "postcode": "1"}
    invalid = await client.post("/locations", json=malformed)
    assert invalid.status_code == 422
    assert set(fields(invalid)) == {"subsidy_tier", "postcode"}
    unknown = await client.get("/locations/loc-nowhere")
    assert (unknown.status_code, fields(unknown)) == (404, ["location_id"])


async def test_free_places_and_closure(client: httpx.AsyncClient) -> None:
    await client.post("/locations", json=LOCATION)
    places = "/locations/loc-a/free-places"
    freed = await client.post(places, json={"available_from": NEXT_MONTH, "count": 2})
    assert freed.status_code == 201
    assert len(freed.json()["place_ids"]) == 2
    full = await client.post(places, json={"available_from": NEXT_MONTH})
    assert (full.status_code, fields(full)) == (409, ["count"])
    too_many = await client.post(places, json={"available_from": NEXT_MONTH, "count": 51})
    assert (too_many.status_code, fields(too_many)) == (422, ["count"])
    closure = {"reason": "licence_revoked", "effective_from": NEXT_MONTH}
    closed = await client.post("/locations/loc-a/closure", json=closure)
    assert closed.status_code == 201
    assert closed.json()["cancelled_place_ids"] == sorted(freed.json()["place_ids"])
    again = await client.post("/locations/loc-a/closure", json=closure)
    assert (again.status_code, fields(again)) == (409, ["location_id"])
    nowhere = await client.post("/locations/loc-x/closure", json=closure)
    assert (nowhere.status_code, fields(nowhere)) == (404, ["location_id"])
