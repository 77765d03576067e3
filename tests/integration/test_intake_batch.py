"""A burst of MatchProposed in one Kafka batch through intake's real consumer over
PostgreSQL: the same rows (requests, offers, notices, audit) and events as one proposal
at a time, in a few dozen statements instead of ten per proposal; a proposal at a closed
location in the middle re-places its child as it would alone, and a proposal to a
request intake does not know makes the batch fall back to one by one."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from contracts import CloudEvent, new_event
from contracts.events import LocationRegistered
from loketkit.testing import RecordingDeadLetters, deliver, deliver_batch, deliver_event
from services.intake.bootstrap import MIGRATIONS, bootstrap
from services.intake.settings import IntakeSettings
from tests.integration.bursts import counting, dump, migrated_database
from tests.personas import INTAKE_USERS, signed_in
from tests.unit.intake.harness import (
    AREA,
    NOW,
    PARENT,
    REQUEST,
    closure,
    proposal,
    refused,
)
from tools.infra import Infra

pytestmark = pytest.mark.integration

REQUESTS = 24
CLOSED = "loc-d"
TABLES = {
    "requests": "SELECT * FROM requests ORDER BY request_id",
    "offers": "SELECT * FROM offers ORDER BY match_id",
    "notices": "SELECT * FROM notices ORDER BY notice_id",
    "audit_log": "SELECT * FROM audit_log ORDER BY audit_id",
    "audit_trail": "SELECT subject, role, action, object_type, object_id, service_area "
                   "FROM audit_trail ORDER BY audit_id",
    "outbox": "SELECT headers::text FROM outbox ORDER BY id",
    "inbox": "SELECT event_id FROM processed_events WHERE source = '/loket/matching' "
             "ORDER BY event_id",
}


async def intake_over(infra: Infra, name: str) -> AsyncIterator[FastAPI]:
    url = await migrated_database(infra, name, MIGRATIONS)
    numbers = itertools.count(1)
    key = SecretStr("a-test-key-of-at-least-thirty-two-bytes")
    app = bootstrap(IntakeSettings(database_url=url, handler_backoff_seconds=0,
                                   child_ref_key=key, personal_link_key=key,
                                   anonymous_registrations_per_minute=1000),
                    dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
                    id_factory=lambda prefix: f"{prefix}-{next(numbers):06d}")
    await prepare(app)
    yield app
    await app.state.infra.engine.dispose()


@pytest.fixture
async def one_by_one(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in intake_over(infra, "intake_one_by_one"):
        yield app


@pytest.fixture
async def burst(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in intake_over(infra, "intake_burst"):
        yield app


async def prepare(app: FastAPI) -> None:
    """Four locations, the last one closed, and the requests (every sixth without
    e-mail; the first would rather go to the closed one; the third's offer at loc-a is
    known from its refusal, read before the proposal)."""
    for location_id in ("loc-a", "loc-b", "loc-c", CLOSED):
        assert await deliver(app.state.consumer, LocationRegistered(
            service_area=AREA, location_id=location_id, name=f"KDV {location_id}",
            municipality_nis="13008", postcode="2440", capacity=10, subsidy_tier="basic",
            registered_at=NOW, organiser_id="org-zonneke")) == "applied"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://intake",
                                 auth=signed_in(app, INTAKE_USERS)) as client:
        for n in range(REQUESTS):
            changes: dict[str, object] = {"preferred_location_ids": (
                [CLOSED, "loc-a"] if n == 0 else ["loc-a", "loc-b", "loc-c"])}
            if n % 6 == 5:
                changes["parent"] = PARENT | {"email": None}
            created = await client.post("/requests", json=REQUEST | changes)
            assert created.status_code == 201, created.json()
            if n == 2:
                assert await deliver(app.state.consumer, refused(
                    created.json()["request_id"], "loc-a")) == "applied"
    assert await deliver(app.state.consumer, closure(CLOSED)) == "applied"


def proposals(request_ids: list[str]) -> list[CloudEvent]:
    """About fifty: an offer at loc-a to each request, one of them repeated, then one at
    loc-b; but the first request's one offer is at the closed location, mid-run."""
    first, *others = request_ids
    made = [proposal(request_id, "loc-a") for request_id in others]
    made.insert(len(made) // 2, proposal(first, CLOSED))
    made.append(proposal(others[2], "loc-a"))  # the same match again
    made.extend(proposal(request_id, "loc-b") for request_id in others)
    return [new_event(data, source="/loket/matching") for data in made]


async def request_ids(app: FastAPI) -> list[str]:
    async with app.state.infra.session_factory() as session:
        found = await session.execute(text("SELECT request_id FROM requests ORDER BY 1"))
        return list(found.scalars())


def outbox_without_ids(rows: list[Any]) -> list[str]:
    """The events' type, subject and cause in order (their own ids are new each time)."""
    kept = []
    for (headers,) in rows:
        pairs = dict(tuple(pair) for pair in json.loads(headers))
        kept.append(f"{pairs['ce_type']} {pairs.get('ce_subject', '')} "
                    f"{pairs.get('ce_causationid', '')}")
    return kept


async def test_a_burst_writes_what_one_proposal_at_a_time_writes_in_few_statements(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    ids = await request_ids(one_by_one)
    assert ids == await request_ids(burst) and len(ids) == REQUESTS
    events = proposals(ids)
    assert len(events) >= 45
    with counting(one_by_one) as one_at_a_time:
        for made in events:
            assert await deliver_event(one_by_one.state.consumer, made) == "applied"
    with counting(burst) as statements:
        outcomes = await deliver_batch(burst.state.consumer, events)

    assert outcomes == ["applied"] * len(events)
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    for table in ("requests", "offers", "notices", "audit_log", "audit_trail", "inbox"):
        assert found[table] == expected[table], table
    assert outbox_without_ids(found["outbox"]) == outbox_without_ids(expected["outbox"])
    # What the burst did, so that the comparison compares something.
    assert len(found["offers"]) == len(events) - 1  # the repeat adds none
    async with burst.state.infra.session_factory() as session:
        completed = await session.scalar(text(  # the refused offer's details came
            "SELECT count(*) FROM offers WHERE status = 'refused' AND day_parts::text <> '[]'"))
    assert completed == 1
    assert len(found["inbox"]) == len(events)
    assert sum("RequestWithdrawn" in each for each in outbox_without_ids(found["outbox"])) == 1
    offers_made = [row for row in found["notices"] if "offer_made" in row]
    # None to the first (re-placed), without e-mail, or for the offer refused already.
    assert len(offers_made) == 2 * (REQUESTS - 1) - 2 * (REQUESTS // 6) - 1
    assert len(statements) * 5 < len(one_at_a_time), (
        f"{len(statements)} statements for the burst, {len(one_at_a_time)} one by one")


async def test_an_unknown_request_in_a_burst_is_dead_lettered_alone(
        one_by_one: FastAPI, burst: FastAPI) -> None:
    # Before the closed location's: the failed try draws ids from the counter, so a
    # re-placement after it would name its new request differently (real ids are random).
    events = proposals(await request_ids(one_by_one))[:10]
    events.insert(6, new_event(proposal("req-unknown"), source="/loket/matching"))
    outcomes = [await deliver_event(one_by_one.state.consumer, made) for made in events]

    assert await deliver_batch(burst.state.consumer, events) == outcomes
    assert outcomes.count("dead-lettered") == 1
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    for table in ("requests", "offers", "inbox"):
        assert found[table] == expected[table], table
    assert len(found["notices"]) == len(expected["notices"])  # with other ids, as above
    assert outbox_without_ids(found["outbox"]) == outbox_without_ids(expected["outbox"])
