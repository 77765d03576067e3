"""Intake's repositories, one behaviour, two implementations: the in-memory fakes the
unit tests use and the SQL repositories intake ships (against real PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.intake.adapters.orm import (
    AuditRecord,
    ImportRecord,
    LocationRecord,
    OfferRecord,
    RequestRecord,
)
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import MIGRATIONS
from services.intake.domain.locations import Location
from services.intake.domain.model import (
    AuditEntry,
    Child,
    Contact,
    ImportBatch,
    Offer,
    OfferStatus,
    Priority,
    Request,
    Status,
    Vulnerability,
)
from services.intake.ports import IntakeUnitOfWork
from tests.unit.intake.fakes import FakeIntakeUnitOfWork
from tools.infra import Infra

AREA = "kempen-gml"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def intake_database(infra: Infra) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = infra.database_urls["intake"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def empty_intake_database(
    intake_database: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    async with intake_database() as session:
        for table in (RequestRecord, LocationRecord, OfferRecord, AuditRecord, ImportRecord):
            await session.execute(delete(table))
        await session.commit()
    return intake_database


@pytest.fixture(params=["fake", pytest.param("sql", marks=pytest.mark.integration)])
def uow(request: pytest.FixtureRequest) -> IntakeUnitOfWork:
    """Sync, so that only the SQL variant asks for (and provisions) the database."""
    if request.param == "fake":
        return FakeIntakeUnitOfWork()
    return SqlIntakeUnitOfWork(request.getfixturevalue("empty_intake_database"))


def a_request(request_id: str = "req-1", **changes: object) -> Request:
    request = Request(
        request_id=request_id, service_area=AREA,
        child=Child("Lotte", "Peeters", date(2026, 10, 12), "26101212345"),
        contact=Contact("An Peeters", "an@example.be", "+32 470 00 00 00", "Markt 1", "2440"),
        municipality_nis="13008", neighbourhood_code="A12", desired_start_date=date(2027, 9, 1),
        day_parts=("mon_am", "mon_pm", "tue_am"), preferred_location_ids=("loc-a", "loc-b"),
        priority=Priority(parents_working_or_training=True, sibling_location_ids=("loc-b",)),
        urgency="normal", submitted_at=NOW, share_contact_with_organiser=True,
    )
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def a_location(location_id: str, name: str = "KDV", area: str = AREA) -> Location:
    return Location(location_id=location_id, service_area=area, name=name,
                    municipality_nis="13008", postcode="2440", subsidy_tier="basic")


async def store(uow: IntakeUnitOfWork, *requests: Request) -> None:
    async with uow:
        for request in requests:
            await uow.requests.add(request)
        await uow.commit()


async def test_a_request_comes_back_as_it_was_stored(uow: IntakeUnitOfWork) -> None:
    stored = a_request()
    await store(uow, stored)
    async with uow:
        assert await uow.requests.get("req-1") == stored
        assert await uow.requests.get_for_update("req-1") == stored
        assert await uow.requests.get("req-404") is None


async def test_the_distance_and_what_came_from_it_come_back(uow: IntakeUnitOfWork) -> None:
    stored = a_request(preferred_location_ids=("loc-a", "loc-b", "loc-c"),
                       distance_location_ids=("loc-b", "loc-c"), max_distance_km=7.5)
    await store(uow, stored)
    async with uow:
        found = await uow.requests.get("req-1")
    assert found == stored and found.chosen_location_ids == ("loc-a",)


async def test_an_assessed_request_comes_back_and_lists_by_urgency_status(
    uow: IntakeUnitOfWork,
) -> None:
    assessed = a_request(
        priority=Priority(works_at_least_four_fifths=True), sworn_statement_at=NOW,
        urgency_reason="Moeder herstart werk")
    assert assessed.assess(Vulnerability(low_income=True, health_problems=True),
                           ("granted", "Bevestigd"), NOW)
    await store(uow, assessed, a_request("req-2", urgency_status="asked",
                                         urgency_reason="Vader ziek"))
    async with uow:
        assert await uow.requests.get("req-1") == assessed
        granted = await uow.requests.listing(without_email=False, has_open_offer=False,
                                             needs_loket=False, limit=10,
                                             urgency_status="granted")
        asked = await uow.requests.listing(without_email=False, has_open_offer=False,
                                           needs_loket=False, limit=10, urgency_status="asked")
    assert [r.request_id for r in granted] == ["req-1"] and granted[0].vulnerable
    assert [r.request_id for r in asked] == ["req-2"]


def an_offer(request_id: str, location_id: str, match_id: str,
             status: OfferStatus = OfferStatus.OPEN) -> Offer:
    return Offer(
        match_id=match_id, request_id=request_id, location_id=location_id,
        place_id=f"p-{match_id}", start_date=date(2027, 9, 1), day_parts=("mon_am", "tue_pm"),
        fit="partial", family_answer_due=NOW + timedelta(days=7),
        organiser_answer_due=NOW + timedelta(days=14), proposed_at=NOW, status=status,
    )


async def test_saved_changes_stay_and_unsaved_ones_do_not(uow: IntakeUnitOfWork) -> None:
    await store(uow, a_request())
    async with uow:
        request = await uow.requests.get_for_update("req-1")
        assert request and request.record_offer(an_offer("req-1", "loc-a", "m-1"))
        await uow.requests.save(request)
        await uow.commit()
    async with uow:
        request = await uow.requests.get("req-1")
        assert request and [o.match_id for o in request.offers] == ["m-1"]
        assert request.offers[0] == an_offer("req-1", "loc-a", "m-1")
        request.withdraw()  # not saved
        await uow.commit()
    async with uow:
        request = await uow.requests.get("req-1")
        assert request and request.status is Status.WAITING


async def test_changes_saved_together_stay_with_their_offers(uow: IntakeUnitOfWork) -> None:
    first = a_request("req-1")
    first.record_offer(an_offer("req-1", "loc-a", "m-1"))
    await store(uow, first, a_request("req-2"))
    async with uow:
        first, second = await uow.requests.get_many_for_update(["req-1", "req-2"])
        first.offers[0].answer(True, "loket_staff", NOW, keep_waiting=True)  # changed
        second.record_offer(an_offer("req-2", "loc-b", "m-2"))  # added
        second.confirmation_asked_at = NOW
        third = a_request("req-3")  # not stored before
        await uow.requests.save_many([first, second, third])
        assert await uow.requests.get("req-2") == second  # the unit reads its own writes
        await uow.commit()
    async with uow:
        assert [await uow.requests.get(f"req-{n}") for n in (1, 2, 3)] == [first, second, third]


async def test_an_offer_answered_and_placed_comes_back_whole(uow: IntakeUnitOfWork) -> None:
    request = a_request()
    request.record_offer(an_offer("req-1", "loc-a", "m-1"))
    request.offers[0].answer(True, "loket_staff", NOW, keep_waiting=True)
    request.offers[0].place("e-1", date(2027, 9, 6), ("mon_am",))
    request.offers[0].ended_on = date(2028, 1, 1)
    request.mark_placed()
    request.sibling_request_ids = ("req-2",)
    request.confirmation_asked_at = NOW
    await store(uow, request)
    async with uow:
        assert await uow.requests.get("req-1") == request
        assert await uow.requests.by_match("m-1") == request
        assert await uow.requests.by_match("m-404") is None


async def test_an_erased_request_keeps_no_personal_data(uow: IntakeUnitOfWork) -> None:
    request = a_request()
    request.erase_personal_data(NOW)
    await store(uow, request)
    async with uow:
        assert await uow.requests.get("req-1") == request


async def test_with_offers_at_finds_open_requests_with_an_offer_there(
    uow: IntakeUnitOfWork,
) -> None:
    at_a, at_b, withdrawn, waiting, placed = (a_request(f"req-{n}") for n in range(1, 6))
    at_a.record_offer(an_offer("req-1", "loc-a", "m-1", OfferStatus.CANCELLED))
    at_b.record_offer(an_offer("req-2", "loc-b", "m-2"))
    withdrawn.record_offer(an_offer("req-3", "loc-a", "m-3"))
    withdrawn.withdraw()
    placed.record_offer(an_offer("req-5", "loc-a", "m-5", OfferStatus.PLACED))
    placed.mark_placed()
    await store(uow, at_a, at_b, withdrawn, waiting, placed)
    async with uow:
        found = await uow.requests.with_offers_at("loc-a")
        assert [r.request_id for r in found] == ["req-1", "req-5"]
        assert found[1] == placed
        assert await uow.requests.with_offers_at("loc-z") == []


async def test_confirmation_claims_take_the_oldest_due_waiting_requests(
    uow: IntakeUnitOfWork,
) -> None:
    old = a_request("req-1", submitted_at=NOW - timedelta(days=200))
    confirmed = a_request("req-2", submitted_at=NOW - timedelta(days=300),
                          last_confirmed_at=NOW - timedelta(days=10))
    asked = a_request("req-3", submitted_at=NOW - timedelta(days=300),
                      confirmation_asked_at=NOW - timedelta(days=40))
    placed = a_request("req-4", submitted_at=NOW - timedelta(days=300), status=Status.PLACED)
    other_area = a_request("req-5", submitted_at=NOW - timedelta(days=300), service_area="x")
    older = a_request("req-6", submitted_at=NOW - timedelta(days=250))
    await store(uow, old, confirmed, asked, placed, other_area, older)
    async with uow:
        to_ask = await uow.requests.claim_to_ask(AREA, NOW - timedelta(days=91), 10)
        assert [r.request_id for r in to_ask] == ["req-6", "req-1"]
        assert [r.request_id for r in await uow.requests.claim_to_ask(
            AREA, NOW - timedelta(days=91), 1)] == ["req-6"]
        to_expire = await uow.requests.claim_to_expire(AREA, NOW - timedelta(days=30), 10)
        assert [r.request_id for r in to_expire] == ["req-3"]
        assert await uow.requests.claim_to_expire(AREA, NOW - timedelta(days=50), 10) == []


async def test_the_worklists_filter_open_requests(uow: IntakeUnitOfWork) -> None:
    no_email = a_request("req-1", contact=Contact("An", None, None, None, "2440"))
    no_email.record_offer(an_offer("req-1", "loc-a", "m-1"))
    no_email_no_offer = a_request("req-2", contact=Contact("Bo", None, None, None, "2440"))
    with_email = a_request("req-3")
    with_email.record_offer(an_offer("req-3", "loc-a", "m-3"))
    stuck = a_request("req-4", needs_loket_for_closure_id="c-1")
    gone = a_request("req-5", contact=Contact("Cas", None, None, None, "2440"),
                     status=Status.WITHDRAWN)
    await store(uow, no_email, no_email_no_offer, with_email, stuck, gone)
    async with uow:
        def ids(found: list[Request]) -> list[str]:
            return [r.request_id for r in found]

        listing = uow.requests.listing
        assert ids(await listing(without_email=True, has_open_offer=True, needs_loket=False,
                                 limit=10)) == ["req-1"]
        assert ids(await listing(without_email=True, has_open_offer=False, needs_loket=False,
                                 limit=10)) == ["req-1", "req-2"]
        assert ids(await listing(without_email=False, has_open_offer=False, needs_loket=True,
                                 limit=10)) == ["req-4"]


async def test_audit_entries_and_imports_are_kept(uow: IntakeUnitOfWork) -> None:
    entry = AuditEntry("aud-1", "req-1", "m-1", "offer_accepted", "loket_staff", "Els", NOW)
    batch = ImportBatch("imp-1", 2, NOW, "Els")
    async with uow:
        await uow.audit.add(entry)
        await uow.audit.add(AuditEntry("aud-2", "req-2", None, "x", "family", None, NOW))
        await uow.imports.add(batch)
        await uow.commit()
    async with uow:
        assert await uow.audit.for_request("req-1") == [entry]
        assert await uow.imports.get("imp-1") == batch
        assert await uow.imports.get("imp-404") is None


async def test_locations_are_listed_open_by_area_and_all_by_name(uow: IntakeUnitOfWork) -> None:
    async with uow:
        await uow.locations.upsert(a_location("loc-c", "Aap"))
        await uow.locations.upsert(a_location("loc-a", "Zon"))
        await uow.locations.upsert(a_location("loc-b", "Maan"))
        await uow.locations.upsert(a_location("loc-x", "Ster", area="elders"))
        await uow.commit()
    async with uow:
        await uow.locations.close("loc-b", "c-1", date(2026, 12, 1))
        await uow.locations.close("loc-unknown", "c-1", date(2026, 12, 1))  # no error
        await uow.commit()
    async with uow:
        assert [loc.location_id for loc in await uow.locations.open_in(AREA)] == [
            "loc-a", "loc-c"]
        assert await uow.locations.open_in(AREA, among=["loc-c", "loc-b", "loc-x"]) == [
            a_location("loc-c", "Aap")]  # open, of the area and among those asked
        everything = await uow.locations.all()
    assert [loc.name for loc in everything] == ["Aap", "Maan", "Ster", "Zon"]
    assert everything[1] == a_location("loc-b", "Maan").model_copy(update={
        "closed": True, "closure_id": "c-1", "closed_from": date(2026, 12, 1)})
    async with uow:
        await uow.locations.upsert(a_location("loc-b", "Maan"))  # registered again
        await uow.commit()
    async with uow:
        assert await uow.locations.get("loc-b") == everything[1]
        assert await uow.locations.get("loc-404") is None


async def test_a_location_registered_again_is_updated(uow: IntakeUnitOfWork) -> None:
    async with uow:
        await uow.locations.upsert(a_location("loc-a", "Oud"))
        await uow.commit()
    async with uow:
        await uow.locations.upsert(a_location("loc-a", "Nieuw"))
        await uow.commit()
    async with uow:
        assert await uow.locations.all() == [a_location("loc-a", "Nieuw")]


async def test_closed_out_at_finds_replaced_and_loket_requests_there(
    uow: IntakeUnitOfWork,
) -> None:
    replaced, loket, other_closure, waiting, replaced_elsewhere, withdrawn_loket = (
        a_request(f"req-{n}") for n in range(1, 7))
    replaced.record_offer(an_offer("req-1", "loc-a", "m-1", OfferStatus.CANCELLED))
    replaced.status, replaced.replaced_by_request_id = Status.REPLACED, "req-9"
    loket.record_offer(an_offer("req-2", "loc-a", "m-2", OfferStatus.PLACED))
    loket.needs_loket_for_closure_id = "c-1"
    other_closure.record_offer(an_offer("req-3", "loc-a", "m-3"))
    other_closure.needs_loket_for_closure_id = "c-2"
    waiting.record_offer(an_offer("req-4", "loc-a", "m-4"))
    replaced_elsewhere.record_offer(an_offer("req-5", "loc-b", "m-5"))
    replaced_elsewhere.status = Status.REPLACED
    withdrawn_loket.record_offer(an_offer("req-6", "loc-a", "m-6"))
    withdrawn_loket.needs_loket_for_closure_id = "c-1"
    withdrawn_loket.withdraw()
    await store(uow, replaced, loket, other_closure, waiting, replaced_elsewhere,
                withdrawn_loket)
    async with uow:
        found = await uow.requests.closed_out_at("loc-a", "c-1")
        assert [r.request_id for r in found] == ["req-1", "req-2", "req-6"]
        assert found[0] == replaced and found[1] == loket
        assert await uow.requests.closed_out_at("loc-z", "c-1") == []
