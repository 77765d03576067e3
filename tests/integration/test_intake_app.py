"""The real intake app over real PostgreSQL (no Kafka: events are delivered by hand and
the outbox is read back): what the unit tests show in memory holds in SQL too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from contracts import from_kafka, parse_data
from contracts.events import (
    EventData,
    LocationRegistered,
    RequestAssessed,
    RequestSubmitted,
    RequestUpdated,
)
from loketkit import migrations
from loketkit.audit import AuditRow
from loketkit.consumer import EventConsumer
from loketkit.db import (
    NoticeRow,
    OutboxMessage,
    ProcessedEvent,
    StoredAnswer,
    make_engine,
    make_session_factory,
)
from loketkit.testing import RecordingDeadLetters, deliver
from services.intake.adapters.orm import (
    AuditRecord,
    ImportRecord,
    LocationRecord,
    OfferRecord,
    RequestRecord,
)
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import MIGRATIONS, bootstrap
from services.intake.settings import IntakeSettings
from tests.personas import INTAKE_USERS, signed_in
from tests.unit.intake.harness import (
    AREA,
    AROUND_GEEL,
    CHILD,
    NOW,
    REQUEST,
    closure,
    placed,
    proposal,
)
from tools.infra import Infra

pytestmark = pytest.mark.integration


@dataclass
class SqlIntake:
    client: httpx.AsyncClient
    consumer: EventConsumer
    dead_letters: RecordingDeadLetters
    sessions: async_sessionmaker[AsyncSession]

    async def deliver(self, data: EventData) -> str:
        return await deliver(self.consumer, data)

    async def outbox(self) -> list[EventData]:
        async with self.sessions() as session:
            query = select(OutboxMessage).order_by(col(OutboxMessage.id))
            rows = (await session.execute(query)).scalars()
            return [parse_data(from_kafka(row.value, [(k, v.encode()) for k, v in row.headers]))
                    for row in rows]


@pytest.fixture(scope="module")
async def sessions(infra: Infra) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = infra.database_urls["intake"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def intake(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[SqlIntake]:
    async with sessions() as session:
        for table in (RequestRecord, LocationRecord, OfferRecord, AuditRecord, ImportRecord,
                      OutboxMessage, ProcessedEvent, StoredAnswer, NoticeRow):
            await session.execute(delete(table))
        await session.commit()
    dead_letters = RecordingDeadLetters()
    app = bootstrap(IntakeSettings(), uow_factory=lambda: SqlIntakeUnitOfWork(sessions),
                    dead_letters=dead_letters, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                 auth=signed_in(app, INTAKE_USERS)) as client:
        yield SqlIntake(client, app.state.consumer, dead_letters, sessions)


async def register(intake: SqlIntake, location_id: str, postcode: str) -> None:
    assert await intake.deliver(LocationRegistered(
        service_area=AREA, location_id=location_id, name="KDV", municipality_nis="13008",
        postcode=postcode, capacity=10, subsidy_tier="basic", registered_at=NOW,
        organiser_id="org-zonneke")) == "applied"


async def test_a_crisis_in_a_large_area_offers_the_ten_nearest(intake: SqlIntake) -> None:
    await register(intake, "loc-geel", "2440")
    for location_id, postcode in AROUND_GEEL.items():
        await register(intake, location_id, postcode)
    created = await intake.client.post(
        "/requests", json=REQUEST | {"preferred_location_ids": ["loc-geel"]})
    request_id = created.json()["request_id"]
    await intake.deliver(proposal(request_id, "loc-geel"))

    assert await intake.deliver(closure("loc-geel")) == "applied"

    assert intake.dead_letters.sent == []
    [crisis] = [e for e in await intake.outbox()
                if isinstance(e, RequestSubmitted) and e.urgency == "crisis"]
    assert crisis.replaces_request_id == request_id
    assert crisis.preferred_location_ids[:3] == ["loc-meerhout", "loc-laakdal", "loc-westerlo"]
    assert len(crisis.preferred_location_ids) == 10
    followed = (await intake.client.get(f"/requests/{request_id}")).json()
    assert followed["replaced_by_request_id"] == crisis.request_id


async def test_choices_within_a_distance_over_sql(intake: SqlIntake) -> None:
    for location_id, postcode in AROUND_GEEL.items():
        await register(intake, location_id, postcode)
    created = await intake.client.post("/requests", json=REQUEST | {
        "preferred_location_ids": ["loc-laakdal"], "max_distance_km": 8.4})
    assert created.status_code == 201, created.json()
    request_id = created.json()["request_id"]
    changed = await intake.client.patch(f"/requests/{request_id}",
                                        json={"max_distance_km": 9.2})
    assert changed.status_code == 200, changed.json()
    followed = (await intake.client.get(f"/requests/{request_id}")).json()
    assert followed["max_distance_km"] == 9.2
    assert [(c["location_id"], c["by_distance"]) for c in followed["choices"]] == [
        ("loc-laakdal", False), ("loc-meerhout", True), ("loc-westerlo", True),
        ("loc-mol", True)]
    published = [e.preferred_location_ids for e in await intake.outbox()
                 if isinstance(e, RequestSubmitted | RequestUpdated)]
    assert published == [["loc-laakdal", "loc-meerhout"],
                         ["loc-laakdal", "loc-meerhout", "loc-westerlo", "loc-mol"]]


async def test_idempotent_submission_and_clean_text_over_sql(intake: SqlIntake) -> None:
    await register(intake, "loc-a", "2440")
    headers = {"Idempotency-Key": "sql-1"}
    first = await intake.client.post("/requests", json=REQUEST, headers=headers)
    again = await intake.client.post("/requests", json=REQUEST, headers=headers)
    other = await intake.client.post("/requests", json=REQUEST | {"day_parts": ["wed_am"]},
                                     headers=headers)
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json()["request_id"] == first.json()["request_id"]
    assert len([e for e in await intake.outbox() if isinstance(e, RequestSubmitted)]) == 1

    nul = await intake.client.post(
        "/requests", json=REQUEST | {"child": CHILD | {"first_name": "An\u0000"}})
    assert nul.status_code == 422
    assert [f["field"] for f in nul.json()["fields"]] == ["child.first_name"]


async def test_offer_answer_placement_and_notices_over_sql(intake: SqlIntake) -> None:
    await register(intake, "loc-a", "2440")
    await register(intake, "loc-b", "2440")
    created = await intake.client.post(
        "/requests", json=REQUEST | {"preferred_location_ids": ["loc-a", "loc-b"]})
    request_id = created.json()["request_id"]
    assert await intake.deliver(proposal(request_id, "loc-a")) == "applied"
    accepted = await intake.client.post(
        f"/requests/{request_id}/offers/m-{request_id}-loc-a/accept",
        json={"answered_by": "loket_staff", "staff_member": "Els"})
    assert accepted.status_code == 200, accepted.json()
    contact = await intake.client.get(f"/offers/m-{request_id}-loc-a/contact")
    assert contact.status_code == 200 and contact.json()["child_first_name"] == "Lotte"
    assert await intake.deliver(placed(request_id, "loc-a")) == "applied"

    followed = (await intake.client.get(f"/requests/{request_id}")).json()
    assert followed["status"] == "placed"
    assert [c["state"] for c in followed["choices"]] == ["placed", "closed"]
    assert [e.__class__.__name__ for e in await intake.outbox()] == [
        "RequestSubmitted", "MatchAccepted"]
    audit = (await intake.client.get(f"/requests/{request_id}/audit")).json()
    assert [(a["actor"], a["staff_member"]) for a in audit] == [("loket_staff", "Els")]
    async with intake.sessions() as session:
        kinds = (await session.execute(
            select(col(NoticeRow.kind)).order_by(col(NoticeRow.created_at)))).scalars().all()
    assert sorted(kinds) == ["offer_made", "personal_link", "placed"]


async def test_a_closure_replaces_a_placed_child_over_sql(intake: SqlIntake) -> None:
    await register(intake, "loc-a", "2440")
    await register(intake, "loc-b", "2440")
    created = await intake.client.post("/requests", json=REQUEST)
    request_id = created.json()["request_id"]
    await intake.deliver(placed(request_id, "loc-a"))  # read before its offer
    assert await intake.deliver(closure("loc-a")) == "applied"
    [crisis] = [e for e in await intake.outbox()
                if isinstance(e, RequestSubmitted) and e.urgency == "crisis"]
    assert (crisis.replaces_request_id, crisis.preferred_location_ids) == (
        request_id, ["loc-b"])
    erased = await intake.client.delete(f"/requests/{crisis.request_id}/personal-data")
    assert erased.status_code == 200
    async with intake.sessions() as session:
        names = (await session.execute(select(col(RequestRecord.child_first_name)))).scalars().all()
    assert set(names) == {"(gewist)"}


async def test_an_import_over_sql_is_all_or_nothing(intake: SqlIntake) -> None:
    await register(intake, "loc-a", "2440")
    header = ("child_first_name,child_last_name,child_birth_date,parent_name,postcode,"
              "municipality_nis,desired_start_date,day_parts,preferred_location_ids,"
              "registered_at")
    good = "Lotte,Peeters,2026-10-12,An Peeters,2440,13008,2027-09-01,mon_am,loc-a,2026-01-05"
    bad = good.replace("loc-a", "loc-z")
    refused = await intake.client.post("/imports", content=f"{header}\n{good}\n{bad}\n",
                                       headers={"content-type": "text/csv"})
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["fields"]] == ["line 3.preferred_location_ids"]
    assert await intake.outbox() == []
    imported = await intake.client.post("/imports", content=f"{header}\n{good}\n{good}\n",
                                        headers={"content-type": "text/csv"})
    assert imported.status_code == 201 and imported.json()["rows"] == 2
    assert len(await intake.outbox()) == 2


async def test_urgency_asked_then_assessed_over_sql(intake: SqlIntake) -> None:
    await register(intake, "loc-a", "2440")
    asked_for = "Moeder herstart werk binnen de maand"
    created = await intake.client.post("/requests", json=REQUEST | {"urgency_reason": asked_for})
    assert created.status_code == 201, created.json()
    request_id = created.json()["request_id"]
    assert created.json()["sworn_statement_at"] is not None
    worklist = (await intake.client.get("/requests", params={"urgency_status": "asked"})).json()
    assert [r["request_id"] for r in worklist] == [request_id]
    why = "Bevestigd door de sociale dienst"
    answer = await intake.client.put(f"/requests/{request_id}/assessment", json={
        "vulnerability": {"low_income": True, "low_parental_education": False,
                          "parents_without_work": False, "poor_housing": True,
                          "health_problems": False},
        "urgency": {"decision": "granted", "reason": why}})
    assert answer.status_code == 200, answer.json()

    followed = (await intake.client.get(f"/requests/{request_id}")).json()
    assert (followed["urgency"], followed["urgency_status"], followed["urgency_reason"],
            followed["urgency_decision_reason"], followed["vulnerable"]) == (
        "urgent", "granted", asked_for, why, True)
    assert followed["assessed_at"] is not None
    submitted, assessed = await intake.outbox()
    assert isinstance(submitted, RequestSubmitted) and submitted.urgency == "normal"
    assert isinstance(assessed, RequestAssessed)
    assert (assessed.request_id, assessed.urgent, assessed.vulnerable) == (request_id, True,
                                                                           True)
    async with intake.sessions() as session:
        values = (await session.execute(select(col(OutboxMessage.value)))).scalars().all()
        trail = (await session.execute(
            select(AuditRow).where(col(AuditRow.object_id) == request_id)
            .order_by(col(AuditRow.audit_id)))).scalars().all()
    assert not any(text.encode() in value for value in values
                   for text in (asked_for, why, "poor_housing"))
    assert [(row.action, row.role) for row in trail] == [
        ("SubmitRequest", "loket_staff"), ("AssessRequest", "loket_staff")]


async def test_the_confirmation_job_asks_then_expires_over_sql(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        for table in (RequestRecord, LocationRecord, OfferRecord, OutboxMessage, NoticeRow):
            await session.execute(delete(table))
        await session.commit()
    moments = [NOW]
    app = bootstrap(IntakeSettings(), uow_factory=lambda: SqlIntakeUnitOfWork(sessions),
                    dead_letters=RecordingDeadLetters(), clock=lambda: moments[-1])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                 auth=signed_in(app, INTAKE_USERS)) as client:
        await deliver(app.state.consumer, LocationRegistered(
            service_area=AREA, location_id="loc-a", name="KDV", municipality_nis="13008",
            postcode="2440", capacity=10, subsidy_tier="basic", registered_at=NOW))
        request_id = (await client.post("/requests", json=REQUEST)).json()["request_id"]
        confirmations = app.state.jobs["confirmations"]
        moments.append(NOW + timedelta(days=92))
        assert await confirmations() == 1
        assert await confirmations() == 0
        moments.append(NOW + timedelta(days=123))
        assert await confirmations() == 1
        assert (await client.get(f"/requests/{request_id}")).json()["status"] == "expired"
