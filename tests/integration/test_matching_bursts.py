"""A burst of freed places, or a run of new requests, in one batch over PostgreSQL: the
same rows and events as one at a time, in a few dozen statements instead of several
per place or request."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from contracts import CloudEvent, EventData
from loketkit.testing import RecordingDeadLetters, deliver, deliver_batch, deliver_event
from services.matching.bootstrap import MIGRATIONS, bootstrap
from services.matching.settings import MatchingSettings
from tests.integration.bursts import counting, dump, migrated_database, outbox_kinds
from tests.unit.matching.harness import NOW
from tests.unit.matching.test_arrivals import new_requests, open_places
from tests.unit.matching.test_bursts import between_the_places, freed_places, waiting_list
from tools.infra import Infra

pytestmark = pytest.mark.integration

TABLES = {
    "places": "SELECT place_id, status FROM places ORDER BY place_id",
    "matches": "SELECT * FROM matches ORDER BY match_id",
    "requests": "SELECT request_id, status, holding_location_ids::text FROM requests "
                "ORDER BY request_id",
    "index": "SELECT * FROM request_locations ORDER BY request_id, location_id",
    "outbox": "SELECT headers::text FROM outbox ORDER BY id",
    "enrolments": "SELECT * FROM enrolments ORDER BY enrolment_id",
    "matches_ended": "SELECT match_id, status FROM matches WHERE status <> 'proposed'",
}


async def matching_over(infra: Infra, name: str) -> AsyncIterator[FastAPI]:
    url = await migrated_database(infra, name, MIGRATIONS)
    numbers = itertools.count(1)
    app = bootstrap(MatchingSettings(database_url=url, handler_backoff_seconds=0),
                    dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
                    # (zero-padded: with the clock standing still, offers made at the
                    # same moment are ordered by id, as they were made)
                    id_factory=lambda prefix: f"{prefix}-{next(numbers):06d}")
    yield app
    await app.state.infra.engine.dispose()


@pytest.fixture
async def one_by_one(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in matching_over(infra, "matching_one_by_one"):
        yield app


@pytest.fixture
async def burst(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in matching_over(infra, "matching_burst"):
        yield app


async def both_ways(one_by_one: FastAPI, burst: FastAPI, before: list[EventData],
                   events: list[CloudEvent]) -> tuple[list[str], list[str], list[str]]:
    """The same start on both sides, then the events one at a time on one side and as one
    batch on the other: (the batch's outcomes, its statements, those one at a time)."""
    for app in (one_by_one, burst):
        for data in before:
            assert await deliver(app.state.consumer, data) == "applied"
    with counting(one_by_one) as one_at_a_time:
        for made in events:
            await deliver_event(one_by_one.state.consumer, made)
    with counting(burst) as statements:
        outcomes = await deliver_batch(burst.state.consumer, events)
    return outcomes, statements, one_at_a_time


async def test_a_burst_writes_what_one_place_at_a_time_writes_in_few_statements(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    events = freed_places(7, 60)
    outcomes, statements, one_at_a_time = await both_ways(
        one_by_one, burst, waiting_list(7), events)

    assert outcomes == ["applied"] * len(events)
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    assert sum(status == "proposed" for _, status in expected["places"]) >= 10
    for table in ("places", "matches", "requests", "index"):
        assert found[table] == expected[table], table
    assert outbox_kinds(found["outbox"]) == outbox_kinds(expected["outbox"])
    assert len(statements) * 5 < len(one_at_a_time), (
        f"{len(statements)} statements for the burst, {len(one_at_a_time)} one by one")


async def test_an_organisers_other_events_between_the_places_keep_the_burst_together(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    events = between_the_places(freed_places(8, 60))
    outcomes, statements, one_at_a_time = await both_ways(
        one_by_one, burst, waiting_list(8), events)

    assert outcomes == ["applied"] * len(events)
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    assert any(status == "cancelled" for _, status, *_ in expected["matches_ended"])
    for table in ("places", "matches", "requests", "index", "enrolments"):
        assert found[table] == expected[table], table
    assert outbox_kinds(found["outbox"]) == outbox_kinds(expected["outbox"])
    # (split at each other event, the same batch took 218 statements against 930)
    assert len(statements) * 5 < len(one_at_a_time), (
        f"{len(statements)} statements for the burst, {len(one_at_a_time)} one by one")


async def test_a_run_of_new_requests_writes_what_one_at_a_time_writes_in_few_statements(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    events = new_requests(3)
    outcomes, statements, one_at_a_time = await both_ways(
        one_by_one, burst, open_places(3), events)

    assert outcomes == ["applied"] * len(events)  # (one request is announced twice)
    assert "one by one" not in caplog.text, "the run was applied set-wise"
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    assert len(expected["requests"]) == 40
    assert 1 <= sum(status == "proposed" for _, status in expected["places"]) < 6
    for table in ("places", "matches", "requests", "index"):
        assert found[table] == expected[table], table
    assert outbox_kinds(found["outbox"]) == outbox_kinds(expected["outbox"])
    # (24 against 374; 77 while a place offered in the run still counted as open)
    assert len(statements) * 10 < len(one_at_a_time), (
        f"{len(statements)} statements for the run, {len(one_at_a_time)} one by one")
