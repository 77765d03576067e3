"""Delivery rules against the real broker and PostgreSQL: outbox, inbox, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from contracts import new_event, to_kafka
from contracts.events import MatchProposed, PlaceFreed, PriorityFacts, RequestSubmitted
from contracts.topics import DEAD_LETTER, MATCHES, TopicSpec
from loketkit import migrations
from loketkit.consumer import EventConsumer, Origin
from loketkit.db import OutboxMessage, ProcessedEvent, make_engine, make_session_factory
from loketkit.kafka import KafkaDeadLetters, subscribe
from loketkit.relay import OutboxRelay
from services.matching import handlers
from services.matching.adapters.uow import MatchingUnitOfWork
from services.matching.bootstrap import MIGRATIONS
from tests.kafka_helpers import collect, publish_raw
from tools.infra import Infra, ensure_topics

AREA = "kempen-gml"
START = date(2027, 9, 1)


def request(request_id: str, location_id: str) -> RequestSubmitted:
    return RequestSubmitted(
        service_area=AREA, request_id=request_id, child_ref="c" * 64, municipality_nis="13008",
        birth_month="2026-10", desired_start_date=START, days_per_week=4,
        preferred_location_ids=[location_id], priority=PriorityFacts(),
        submitted_at=datetime.now(UTC))


def place(place_id: str, location_id: str) -> PlaceFreed:
    return PlaceFreed(service_area=AREA, place_id=place_id, location_id=location_id,
                      municipality_nis="13053", available_from=START, min_age_months=0,
                      max_age_months=36, freed_at=datetime.now(UTC))


@pytest.fixture(scope="module")
async def matching_db(infra: Infra):  # type: ignore[no-untyped-def]
    url = infra.database_urls["matching"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    yield make_session_factory(engine)
    await engine.dispose()


class CollectingDeadLetters:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.sent.append(headers)


async def test_inbox_applies_each_event_once_and_outbox_holds_one_proposal(matching_db) -> None:  # type: ignore[no-untyped-def]
    location_id = f"loc-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        "matching", {RequestSubmitted: handlers.on_request_submitted,
                     PlaceFreed: handlers.on_place_freed},
        lambda: MatchingUnitOfWork(matching_db), CollectingDeadLetters())
    freed = new_event(place(f"p-{location_id}", location_id), source="/test")
    outcomes = []
    for event in (new_event(request(f"r-{location_id}", location_id), source="/test"),
                  freed, freed):
        _, value, headers = to_kafka(event)
        outcomes.append(await consumer.consume(value, headers, Origin("t", 0, 0, None)))
    assert outcomes == ["applied", "applied", "duplicate"]

    async with matching_db() as session:
        rows = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.key == AREA.encode()))).scalars().all()
        proposals = [row for row in rows if dict(row.headers).get("ce_subject")
                     == f"r-{location_id}"]
        assert len(proposals) == 1
        applied = await session.scalar(select(func.count()).select_from(ProcessedEvent)
                                       .where(ProcessedEvent.event_id == freed.id))
        assert applied == 1


async def test_the_database_refuses_a_second_live_proposal_of_one_place(matching_db) -> None:  # type: ignore[no-untyped-def]
    place_id = f"p-{uuid.uuid4().hex[:8]}"
    insert = text("INSERT INTO matches (match_id, place_id, request_id, location_id, "
                  "proposed_at, active) VALUES (:m, :p, 'r', 'l', now(), true)")
    async with matching_db() as session:
        await session.execute(insert, {"m": f"m1-{place_id}", "p": place_id})
        with pytest.raises(IntegrityError):
            await session.execute(insert, {"m": f"m2-{place_id}", "p": place_id})
        await session.rollback()


async def test_the_relay_publishes_committed_events_once_acknowledged(
    matching_db, infra: Infra  # type: ignore[no-untyped-def]
) -> None:
    relay = OutboxRelay(matching_db, infra.bootstrap_servers, "matching-it")
    match_id = f"match-{uuid.uuid4().hex[:8]}"
    async with MatchingUnitOfWork(matching_db) as uow:
        event = uow.emit(MatchProposed(
            service_area=AREA, match_id=match_id, request_id="r-relay", place_id="p-relay",
            location_id="loc-relay", location_municipality_nis="13053",
            request_municipality_nis="13008", urgency="normal", ordering="test",
            proposed_at=datetime.now(UTC)))
        await uow.commit()
    await relay.start()
    try:
        found = await collect(infra.bootstrap_servers, MATCHES.name,
                              match=lambda r: r.headers.get("ce_id") == event.id,
                              until=lambda records: len(records) >= 1)
    finally:
        await relay.stop()
    assert found[0].key == AREA.encode()
    async with matching_db() as session:
        row = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.event_id == event.id))).scalar_one()
        assert row.published_at is not None
        assert datetime.now(UTC) - row.published_at < timedelta(minutes=5)


async def test_a_real_subscriber_dead_letters_garbage_and_keeps_consuming(
    matching_db, infra: Infra  # type: ignore[no-untyped-def]
) -> None:
    topic = TopicSpec(name=f"loket.it.{uuid.uuid4().hex[:8]}", partitions=1, key="area",
                      retention_ms=3_600_000, description="integration test topic")
    await ensure_topics(infra.bootstrap_servers, [topic])
    broker = KafkaBroker(infra.bootstrap_servers)
    consumer = EventConsumer("matching-it", {PlaceFreed: handlers.on_place_freed},
                             lambda: MatchingUnitOfWork(matching_db), KafkaDeadLetters(broker))
    subscribe(broker, [topic], consumer, f"it-{uuid.uuid4().hex[:8]}")
    marker = uuid.uuid4().hex
    good = new_event(place(f"p-{marker}", f"loc-{marker}"), source="/test")
    await publish_raw(infra.bootstrap_servers, topic.name, f"{{{marker}".encode(),
                      headers=[("ce_specversion", b"1.0")])
    _, value, headers = to_kafka(good)
    await publish_raw(infra.bootstrap_servers, topic.name, value, headers=headers)
    async with broker:
        await broker.start()
        [dead] = await collect(infra.bootstrap_servers, DEAD_LETTER.name,
                               match=lambda r: marker.encode() in (r.value or b""),
                               until=lambda records: len(records) >= 1)
        assert dead.headers["dlq_original_topic"] == topic.name
        assert dead.headers["dlq_original_offset"] == "0"
        for _ in range(100):
            async with matching_db() as session:
                if await session.get(ProcessedEvent, good.id):
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the valid event after the garbage was never applied")


async def test_published_outbox_rows_are_pruned_after_a_week_and_unsent_ones_never(
    matching_db, infra: Infra  # type: ignore[no-untyped-def]
) -> None:
    relay = OutboxRelay(matching_db, infra.bootstrap_servers, "matching-it")
    now = datetime.now(UTC)
    ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("old", "recent", "unsent")}
    async with matching_db() as session, session.begin():
        for name, published in (("old", now - timedelta(days=8)),
                                ("recent", now - timedelta(days=1)), ("unsent", None)):
            session.add(OutboxMessage(event_id=ids[name], topic=MATCHES.name, key=b"k",
                                      value=b"{}", headers=[], created_at=now - timedelta(days=9),
                                      published_at=published))
    assert await relay.prune_published() >= 1
    async with matching_db() as session:
        left = set((await session.execute(select(OutboxMessage.event_id).where(
            OutboxMessage.event_id.in_(ids.values())))).scalars())  # type: ignore[attr-defined]
    assert left == {ids["recent"], ids["unsent"]}
