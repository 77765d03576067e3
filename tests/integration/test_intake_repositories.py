"""Intake's repositories, one behaviour, two implementations: the in-memory fakes the
unit tests use and the SQL repositories intake ships (against real PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.intake.adapters.orm import LocationRecord, RequestRecord
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import MIGRATIONS
from services.intake.domain.locations import Location
from services.intake.domain.model import Child, Contact, Priority, Request, Status
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
        for table in (RequestRecord, LocationRecord):
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
        days_per_week=4, preferred_location_ids=("loc-a", "loc-b"),
        priority=Priority(parents_working_or_training=True, sibling_location_ids=("loc-b",)),
        urgency="normal", submitted_at=NOW,
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


async def test_saved_changes_stay_and_unsaved_ones_do_not(uow: IntakeUnitOfWork) -> None:
    await store(uow, a_request())
    async with uow:
        request = await uow.requests.get_for_update("req-1")
        assert request and request.propose("m-1", "loc-a", "p-1")
        await uow.requests.save(request)
        await uow.commit()
    async with uow:
        request = await uow.requests.get("req-1")
        assert request and request.status is Status.PROPOSED and request.match_id == "m-1"
        request.withdraw()  # not saved
        await uow.commit()
    async with uow:
        request = await uow.requests.get("req-1")
        assert request and request.status is Status.PROPOSED


async def test_an_erased_request_keeps_no_personal_data(uow: IntakeUnitOfWork) -> None:
    request = a_request()
    request.erase_personal_data(NOW)
    await store(uow, request)
    async with uow:
        assert await uow.requests.get("req-1") == request


async def test_proposed_at_finds_open_proposals_at_the_location_only(
    uow: IntakeUnitOfWork,
) -> None:
    at_a, at_b, withdrawn, waiting = (a_request(f"req-{n}") for n in range(1, 5))
    at_a.propose("m-1", "loc-a", "p-1")
    at_b.propose("m-2", "loc-b", "p-2")
    withdrawn.propose("m-3", "loc-a", "p-3")
    withdrawn.withdraw()
    await store(uow, at_a, at_b, withdrawn, waiting)
    async with uow:
        assert [r.request_id for r in await uow.requests.proposed_at("loc-a")] == ["req-1"]
        assert await uow.requests.proposed_at("loc-z") == []


async def test_locations_are_listed_open_by_area_and_all_by_name(uow: IntakeUnitOfWork) -> None:
    async with uow:
        await uow.locations.upsert(a_location("loc-c", "Aap"))
        await uow.locations.upsert(a_location("loc-a", "Zon"))
        await uow.locations.upsert(a_location("loc-b", "Maan"))
        await uow.locations.upsert(a_location("loc-x", "Ster", area="elders"))
        await uow.commit()
    async with uow:
        await uow.locations.close("loc-b")
        await uow.locations.close("loc-unknown")  # nothing to close, no error
        await uow.commit()
    async with uow:
        assert [loc.location_id for loc in await uow.locations.open_in(AREA)] == [
            "loc-a", "loc-c"]
        everything = await uow.locations.all()
    assert [loc.name for loc in everything] == ["Aap", "Maan", "Ster", "Zon"]
    assert everything[1] == a_location("loc-b", "Maan").model_copy(update={"closed": True})


async def test_a_location_registered_again_is_updated(uow: IntakeUnitOfWork) -> None:
    async with uow:
        await uow.locations.upsert(a_location("loc-a", "Oud"))
        await uow.commit()
    async with uow:
        await uow.locations.upsert(a_location("loc-a", "Nieuw"))
        await uow.commit()
    async with uow:
        assert await uow.locations.all() == [a_location("loc-a", "Nieuw")]

