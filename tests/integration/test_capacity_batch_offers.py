"""A burst of MatchProposed through capacity's real consumer on PostgreSQL: the same
offers, notices and inbox rows as one event at a time, in a few statements instead of a
few per event; and offers written set-wise are not read back stale in the transaction."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from contracts import CloudEvent, new_event
from contracts.events import MatchDeclined, MatchProposed
from loketkit.testing import RecordingDeadLetters, deliver_batch, deliver_event
from services.capacity.adapters.orm import OfferRecord
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS, bootstrap
from services.capacity.domain.model import Location, Offer, OfferStatus
from services.capacity.settings import CapacitySettings
from tests.integration.bursts import counting, dump, migrated_database
from tests.unit.capacity.conftest import NOW, acceptance, proposal
from tools.infra import Infra

pytestmark = pytest.mark.integration

BURST = 50
MATCHING = "/loket/matching"
INTAKE = "/loket/intake"
TABLES = {
    "offers": "SELECT * FROM offers ORDER BY match_id",
    "notices": "SELECT notice_id, recipient, subject, body, kind, created_at, sent_at "
               "FROM notices ORDER BY notice_id",
    "inbox": "SELECT source, event_id, event_type FROM processed_events "
             "ORDER BY source, event_id",
    "outbox": "SELECT topic, key FROM outbox ORDER BY id",
    "audit": "SELECT count(*) FROM audit_trail",
}


async def capacity_over(infra: Infra, name: str) -> AsyncIterator[FastAPI]:
    url = await migrated_database(infra, name, MIGRATIONS)
    numbers = itertools.count(1)
    app = bootstrap(CapacitySettings(database_url=url, handler_backoff_seconds=0),
                    dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
                    id_factory=lambda prefix: f"{prefix}-{next(numbers):06d}")
    async with SqlCapacityUnitOfWork(app.state.infra.session_factory) as uow:
        for location_id, email in (("loc-a", "opvang@a.example"), ("loc-b", None),
                                   ("loc-c", "opvang@c.example")):
            assert await uow.locations.add(Location(
                location_id=location_id, service_area="kempen-gml", name=f"Opvang {location_id}",
                municipality_nis="13008", postcode="2440", capacity=20, subsidy_tier="plus",
                organiser_email=email,
            ), registered_at=NOW)
        await uow.commit()
    yield app
    await app.state.infra.engine.dispose()


@pytest.fixture
async def one_by_one(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in capacity_over(infra, "capacity_offers_one_by_one"):
        yield app


@pytest.fixture
async def burst(infra: Infra) -> AsyncIterator[FastAPI]:
    async for app in capacity_over(infra, "capacity_offers_burst"):
        yield app


def proposed(n: int, **changes: Any) -> MatchProposed:
    return proposal(match_id=f"m-{n:03d}", place_id=f"place-{n:03d}",
                    request_id=f"req-{n:03d}", location_id=("loc-a", "loc-b", "loc-c")[n % 3],
                    **changes)


def declined(offer: MatchProposed) -> MatchDeclined:
    return MatchDeclined(
        service_area=offer.service_area, match_id=offer.match_id, request_id=offer.request_id,
        place_id=offer.place_id, location_id=offer.location_id, municipality_nis="13008",
        declined_at=NOW,
    )


def before_the_burst() -> list[CloudEvent]:
    """Answers read before their proposals (accepted: 0-5, one keeping waiting; declined:
    6-8) and proposals read before (9-10)."""
    return [
        *(new_event(acceptance(proposed(n), keep_waiting=n == 1), source=INTAKE)
          for n in range(6)),
        *(new_event(declined(proposed(n)), source=INTAKE) for n in range(6, 9)),
        *(new_event(proposed(n), source=MATCHING) for n in range(9, 11)),
    ]


def the_burst() -> list[CloudEvent]:
    """BURST proposals: every one of before_the_burst's, new ones, and some match ids
    twice (the second with another start date: it changes nothing)."""
    numbers = [*range(11), *range(100, 100 + BURST - 11 - 6), 100, 0, 7, 9, 101, 3]
    later = NOW.date() + timedelta(days=60)
    seen: set[int] = set()
    events = []
    for n in numbers:
        data = proposed(n, start_date=later) if n in seen else proposed(n)
        seen.add(n)
        events.append(new_event(data, source=MATCHING))
    assert len(events) == BURST
    return events


async def test_a_burst_writes_what_one_proposal_at_a_time_writes_in_few_statements(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    answers = before_the_burst()
    for app in (one_by_one, burst):
        for earlier in answers:
            assert await deliver_event(app.state.consumer, earlier) == "applied"
    events = the_burst()
    with counting(one_by_one) as one_at_a_time:
        for made in events:
            await deliver_event(one_by_one.state.consumer, made)
    with counting(burst) as statements:
        outcomes = await deliver_batch(burst.state.consumer, events)

    assert outcomes == ["applied"] * BURST
    assert "one by one" not in caplog.text, "the burst was applied set-wise"
    expected, found = await dump(one_by_one, TABLES), await dump(burst, TABLES)
    assert found == expected
    assert len(expected["offers"]) == 11 + BURST - 11 - 6
    # The accepted ones at a location with an address (0 and 3 at loc-a, 2 and 5 at loc-c).
    assert [row[1] for row in found["notices"]] == ["opvang@a.example", "opvang@c.example",
                                                     "opvang@a.example", "opvang@c.example"]
    assert len(statements) * 5 < len(one_at_a_time), (
        f"{len(statements)} statements for the burst, {len(one_at_a_time)} one by one")
    assert sum(" ON CONFLICT " in each for each in statements) == 1, statements


async def test_answers_after_a_burst_in_the_same_batch_see_its_offers(
        one_by_one: FastAPI, burst: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    """The proposals are written set-wise; the answers after them in the batch go one by
    one through the ORM session, and must read what the run wrote."""
    events = [new_event(proposed(n), source=MATCHING) for n in range(6)]
    events += [new_event(acceptance(proposed(1)), source=INTAKE),
               new_event(declined(proposed(2)), source=INTAKE),
               new_event(proposed(1, start_date=NOW.date()), source=MATCHING),
               new_event(proposed(6), source=MATCHING)]
    for made in events:
        await deliver_event(one_by_one.state.consumer, made)
    assert await deliver_batch(burst.state.consumer, events) == ["applied"] * len(events)
    assert "one by one" not in caplog.text
    assert await dump(burst, TABLES) == await dump(one_by_one, TABLES)


async def test_offers_written_set_wise_are_not_read_back_stale(burst: FastAPI) -> None:
    sessions = burst.state.infra.session_factory
    async with SqlCapacityUnitOfWork(sessions) as uow:
        await uow.offers.save_all([
            Offer(match_id=match_id, request_id="req-1", place_id="place-1",
                  location_id="loc-a", start_date=NOW.date()) for match_id in ("m-2", "m-1")])
        await uow.commit()
    async with SqlCapacityUnitOfWork(sessions) as uow:
        held = await uow.session.get(OfferRecord, "m-1")  # the session holds the record
        assert held is not None
        assert await uow.offers.get_many(["m-2", "m-nowhere", "m-1"]) == [
            await uow.offers.get("m-1"), await uow.offers.get("m-2")]
        [offer] = await uow.offers.get_many(["m-1"])
        await uow.offers.save_all([offer.moved_to(OfferStatus.ACCEPTED)])
        found = await uow.offers.get("m-1")
        assert found is not None
        assert found.status is OfferStatus.ACCEPTED
        assert [o.status for o in await uow.offers.at_location("loc-a")] == [
            OfferStatus.ACCEPTED, OfferStatus.PROPOSED]
        assert held.status == OfferStatus.ACCEPTED
