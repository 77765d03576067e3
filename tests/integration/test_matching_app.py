"""Matching's app over PostgreSQL (no broker needed: events go straight to its consumer):
the inbox applies each event once, the outbox holds one proposal, the database
refuses a second live proposal of a place, and the queue route reads SQL."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from contracts import new_event
from contracts.events import (
    MatchExpired,
    MatchProposed,
    MatchReminderDue,
    PlaceFreed,
    PriorityFacts,
    RequestSubmitted,
)
from contracts.schedule import full_days
from loketkit import migrations
from loketkit.db import OutboxMessage, ProcessedEvent
from loketkit.testing import RecordingDeadLetters, deliver, deliver_event
from services.matching.adapters.uow import SqlMatchingUnitOfWork
from services.matching.bootstrap import MIGRATIONS, bootstrap
from services.matching.domain.model import Match
from services.matching.settings import MatchingSettings
from tests.personas import loket_of, signed_in
from tools.infra import Infra

pytestmark = pytest.mark.integration

START = date(2027, 9, 1)
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@dataclass
class Area:
    """A fresh service area per test, so tests sharing the database do not meet."""

    name: str
    location_id: str

    @classmethod
    def fresh(cls) -> Area:
        marker = uuid.uuid4().hex[:8]
        return cls(f"it-{marker}", f"loc-{marker}")

    def submitted(self, request_id: str) -> RequestSubmitted:
        return RequestSubmitted(
            service_area=self.name, request_id=request_id, child_ref="c" * 64,
            municipality_nis="13008", birth_month="2026-10", desired_start_date=START,
            day_parts=full_days(4), preferred_location_ids=[self.location_id],
            priority=PriorityFacts(), submitted_at=NOW)

    def freed(self, place_id: str) -> PlaceFreed:
        return PlaceFreed(service_area=self.name, place_id=place_id,
                          location_id=self.location_id, municipality_nis="13053",
                          available_from=START, min_age_months=0, max_age_months=36,
                          day_parts=full_days(5), freed_at=NOW)


@pytest.fixture(scope="module")
async def app(infra: Infra) -> AsyncIterator[FastAPI]:
    url = infra.database_urls["matching"]
    await migrations.upgrade(url, MIGRATIONS)
    numbers = itertools.count(1)
    app = bootstrap(
        MatchingSettings(database_url=url, handler_backoff_seconds=0),
        dead_letters=RecordingDeadLetters(),
        clock=lambda: NOW,
        id_factory=lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}-{next(numbers)}",
    )
    yield app
    await app.state.infra.engine.dispose()


async def test_each_event_is_applied_once_and_the_outbox_holds_one_proposal(
    app: FastAPI,
) -> None:
    area = Area.fresh()
    consumer = app.state.consumer
    freed = new_event(area.freed("p1-" + area.name), source="/test")
    outcomes = [await deliver(consumer, area.submitted("r1-" + area.name)),
                await deliver_event(consumer, freed),
                await deliver_event(consumer, freed),
                await deliver(consumer, area.freed("p1-" + area.name))]  # another event id
    assert outcomes == ["applied", "applied", "duplicate", "applied"]

    sessions = app.state.infra.session_factory
    async with sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.key) == area.name.encode())
        )).scalars().all()
        assert [dict(row.headers)["ce_type"] for row in rows] == [MatchProposed.event_type()]
        assert dict(rows[0].headers)["ce_subject"] == "r1-" + area.name
        applied = await session.scalar(
            select(func.count()).select_from(ProcessedEvent)
            .where(col(ProcessedEvent.source) == freed.source,
                   col(ProcessedEvent.event_id) == freed.id))
        assert applied == 1


async def test_the_queue_route_counts_what_sql_holds(app: FastAPI) -> None:
    area = Area.fresh()
    for data in (area.submitted("r1-" + area.name), area.submitted("r2-" + area.name),
                 area.freed("p1-" + area.name)):
        assert await deliver(app.state.consumer, data) == "applied"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://matching",
                                 auth=signed_in(app, loket_of(area.name))) as client:
        response = await client.get(f"/service-areas/{area.name}/queue")
    assert response.status_code == 200
    assert response.json() == {"service_area": area.name,
                               "requests": {"proposed": 1, "waiting": 1},
                               "places": {"proposed": 1}}


async def test_the_database_refuses_a_second_live_proposal_of_one_place(app: FastAPI) -> None:
    area = Area.fresh()
    uow = SqlMatchingUnitOfWork(app.state.infra.session_factory)

    def match(match_id: str, request_id: str) -> Match:
        return Match(match_id=f"{match_id}-{area.name}", service_area=area.name,
                     request_id=request_id, place_id="p-" + area.name,
                     location_id=area.location_id, location_municipality_nis="13053",
                     request_municipality_nis="13008", proposed_at=NOW,
                     family_answer_due=NOW, family_reminder_due=NOW, organiser_answer_due=NOW)

    async with uow:
        await uow.matches.add(match("m1", "r1"))
        await uow.commit()
    with pytest.raises(IntegrityError, match="uq_matches_live_place"):
        async with uow:
            await uow.matches.add(match("m2", "r2"))
            await uow.commit()


async def outbox_types(app: FastAPI, area: Area) -> list[str]:
    async with app.state.infra.session_factory() as session:
        rows = (await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.key) == area.name.encode())
        )).scalars().all()
    return [dict(row.headers)["ce_type"] for row in rows]


def app_with_clock(infra: Infra, now: list[datetime]) -> FastAPI:
    return bootstrap(
        MatchingSettings(database_url=infra.database_urls["matching"],
                         handler_backoff_seconds=0),
        dead_letters=RecordingDeadLetters(),
        clock=lambda: now[0],
        id_factory=lambda prefix: f"{prefix}-{uuid.uuid4().hex[:12]}",
    )


async def test_two_job_runs_at_once_fire_each_deadline_once_and_a_restart_fires_none(
    app: FastAPI, infra: Infra,
) -> None:
    area = Area.fresh()
    now = [NOW]
    first = app_with_clock(infra, now)
    for number in range(3):
        assert await deliver(first.state.consumer,
                             area.submitted(f"r{number}-{area.name}")) == "applied"
        assert await deliver(first.state.consumer,
                             area.freed(f"p{number}-{area.name}")) == "applied"
    assert await outbox_types(first, area) == [MatchProposed.event_type()] * 3
    jobs = first.state.jobs

    async def both_at_once() -> None:
        await asyncio.gather(jobs["deadlines"](), jobs["deadlines"]())

    # Monday 2 November: the family is reminded on Friday 6 November, the offer
    # expires at the end of Monday 9 November (Brussels time).
    now[0] = datetime(2026, 11, 7, tzinfo=UTC)
    await both_at_once()
    assert (await outbox_types(first, area)).count(MatchReminderDue.event_type()) == 3
    now[0] = datetime(2026, 11, 10, tzinfo=UTC)
    await both_at_once()
    await both_at_once()
    fired = await outbox_types(first, area)
    assert fired.count(MatchExpired.event_type()) == 3
    assert fired.count(MatchReminderDue.event_type()) == 3

    restarted = app_with_clock(infra, now)  # a new process over the same database
    await restarted.state.jobs["deadlines"]()
    assert await outbox_types(restarted, area) == fired
    for made in (first, restarted):
        await made.state.infra.engine.dispose()


async def test_an_area_in_rounds_runs_and_publishes_a_round_over_sql(app: FastAPI) -> None:
    """The area's settings say rounds: nothing is offered when the place frees up; the
    round reads SQL, is stored with its figures, and publishing it proposes through the
    outbox, once."""
    area = Area.fresh()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://matching",
                                 auth=signed_in(app, loket_of(area.name))) as client:
        settings = await client.post(f"/service-areas/{area.name}/settings", json={
            "effective_from": "2026-01-01T00:00:00Z", "allocation": "rounds"})
        assert settings.status_code == 201, settings.text
        for data in (area.submitted("r1-" + area.name), area.submitted("r2-" + area.name),
                     area.freed("p1-" + area.name)):
            assert await deliver(app.state.consumer, data) == "applied"
        assert await outbox_types(app, area) == []
        run = await client.post(f"/service-areas/{area.name}/rounds", json={
            "period_from": str(START), "period_to": str(START), "lottery_seed": 7})
        assert run.status_code == 201, run.text
        round_id = run.json()["round_id"]
        listed = await client.get(f"/service-areas/{area.name}/rounds")
        published = await client.post(f"/service-areas/{area.name}/rounds/{round_id}/publish")
        again = await client.post(f"/service-areas/{area.name}/rounds/{round_id}/publish")
    report = run.json()["report"]
    assert (report["deferred_acceptance"]["placed"], report["deferred_acceptance"]["envy_pairs"],
            run.json()["lottery_seed"]) == (1, 0, 7)
    assert [r["round_id"] for r in listed.json()] == [round_id]
    assert (published.status_code, published.json()["offers_made"], again.status_code) == (
        200, 1, 409)
    assert await outbox_types(app, area) == [MatchProposed.event_type()]
