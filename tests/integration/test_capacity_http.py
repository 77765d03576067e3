"""Capacity's routes over PostgreSQL (no broker: events stay in the outbox): what a
retried POST and a NUL in a name do against the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import OutboxMessage, make_engine, make_session_factory
from loketkit.ids import utcnow
from loketkit.testing import RecordingDeadLetters, deliver
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS, bootstrap
from services.capacity.settings import CapacitySettings
from tests.personas import CAPACITY_USERS, signed_in
from tests.unit.capacity.conftest import acceptance, proposal
from tools.infra import Infra

pytestmark = pytest.mark.integration

LOCATION = {"name": "De Bolleboos", "municipality_nis": "13008", "postcode": "2440",
            "capacity": 3, "subsidy_tier": "plus"}
NEXT_MONTH = str(date.today() + timedelta(days=30))


@dataclass
class Capacity:
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    app: FastAPI

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
            "TRUNCATE closures, enrolments, offers, free_places, locations, outbox, "
            "idempotency_keys"))
    session_factory = make_session_factory(engine)
    app = bootstrap(
        CapacitySettings(database_url=url),
        uow_factory=lambda: SqlCapacityUnitOfWork(session_factory),
        dead_letters=RecordingDeadLetters(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://capacity",
                                 auth=signed_in(app, CAPACITY_USERS)) as client:
        yield Capacity(client, session_factory, app)
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
    location = first.json()["location_id"]
    registered = await http.post(f"/locations/{location}/closures", json=closure)
    assert registered.status_code == 201
    assert await capacity.outbox_rows() == 3  # confidential: nothing published
    released = await http.post(f"/closures/{registered.json()['closure_id']}/release")
    assert released.status_code == 200
    assert released.json()["cancelled_place_ids"] == sorted(freed.json()["place_ids"])
    assert await capacity.outbox_rows() == 4
    again = await http.post(f"/closures/{registered.json()['closure_id']}/release")
    assert again.status_code == 409


async def test_a_nul_in_the_name_is_a_422_not_a_database_error(capacity: Capacity) -> None:
    refused = await capacity.http.post("/locations", json=LOCATION | {"name": "Bolle\u0000boos"})
    assert refused.status_code == 422
    assert [item["field"] for item in refused.json()["fields"]] == ["name"]


async def test_offers_enrolments_and_occupancy_over_postgresql(capacity: Capacity) -> None:
    http = capacity.http
    created = await http.post("/locations", json=LOCATION | {"capacity": 2})
    location = created.json()["location_id"]
    own = [{"enrolment_id": f"own-{location}", "start_date": NEXT_MONTH,
            "day_parts": ["mon_am", "mon_pm"]}]
    declared = await http.put(f"/locations/{location}/enrolments", json={"enrolments": own})
    assert declared.status_code == 200, declared.text
    assert [e["enrolment_id"] for e in declared.json()] == [f"own-{location}"]
    freed = await http.post(f"/locations/{location}/free-places",
                            json={"available_from": NEXT_MONTH, "day_parts": ["mon_am"]})
    assert freed.status_code == 201
    full = await http.post(f"/locations/{location}/free-places",
                           json={"available_from": NEXT_MONTH, "day_parts": ["mon_am"]})
    assert full.status_code == 409
    occupancy = (await http.get(f"/locations/{location}/occupancy",
                                params={"on": NEXT_MONTH})).json()
    mon_am = occupancy["day_parts"][0]
    assert (mon_am["enrolled"], mon_am["free"], mon_am["available"]) == (1, 1, 0)
    ended = await http.post(f"/enrolments/own-{location}/end",
                            json={"ended_on": NEXT_MONTH, "reason": "left"})
    assert ended.status_code == 200
    assert (await http.post(f"/locations/{location}/free-places",
                            json={"available_from": NEXT_MONTH,
                                  "day_parts": ["mon_am"]})).status_code == 201
    assert (await http.get(f"/locations/{location}/offers")).json() == []


async def test_a_proposal_accepted_then_confirmed_over_postgresql(capacity: Capacity) -> None:
    http = capacity.http
    created = await http.post("/locations", json=LOCATION | {"capacity": 2})
    location = created.json()["location_id"]
    freed = await http.post(f"/locations/{location}/free-places",
                            json={"available_from": NEXT_MONTH})
    [place] = freed.json()["place_ids"]
    match_id = f"match-{location}"
    offer = proposal(match_id=match_id, place_id=place, location_id=location,
                     start_date=date.fromisoformat(NEXT_MONTH))
    consumer = capacity.app.state.consumer
    # The family's answer first (another topic), then the proposal itself.
    assert await deliver(consumer, acceptance(offer)) == "applied"
    assert await deliver(consumer, offer) == "applied"
    [listed] = (await http.get(f"/locations/{location}/offers")).json()
    assert (listed["status"], listed["start_date"]) == ("accepted", NEXT_MONTH)
    confirmed = await http.post(f"/offers/{match_id}/confirm", json={})
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["day_parts"] == ["mon_am", "mon_pm", "tue_am"]
    withdraw = await http.post(f"/locations/{location}/free-places/{place}/withdraw")
    assert withdraw.status_code == 409  # filled
    occupancy = (await http.get(f"/locations/{location}/occupancy",
                                params={"on": NEXT_MONTH})).json()
    assert [p["enrolled"] for p in occupancy["day_parts"]][:4] == [1, 1, 1, 0]
