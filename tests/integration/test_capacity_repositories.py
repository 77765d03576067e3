"""Capacity's repository behaviour, written once and run against the in-memory fakes
and against PostgreSQL (the SQL variant is marked `integration`), so the fakes the
unit tests trust behave like the SQL that ships."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS
from services.capacity.domain.model import FreePlace, Location, PlaceSource
from services.capacity.ports import CapacityUnitOfWork
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork
from tools.infra import Infra

MIGRATED: set[str] = set()
NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
START = date(2026, 12, 1)


@pytest.fixture(params=["fake", pytest.param("sql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the fakes; else capacity's test database (the `infra` session fixture)."""
    if request.param == "fake":
        return None
    infra: Infra = request.getfixturevalue("infra")
    return infra.database_urls["capacity"]


@pytest.fixture
async def uow(database_url: str | None) -> AsyncIterator[CapacityUnitOfWork]:
    if database_url is None:
        yield FakeCapacityUnitOfWork()
        return
    if database_url not in MIGRATED:
        await migrations.upgrade(database_url, MIGRATIONS)
        MIGRATED.add(database_url)
    engine = make_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE closures, free_places, locations"))
    yield SqlCapacityUnitOfWork(make_session_factory(engine))
    await engine.dispose()


def location(location_id: str = "loc-a", name: str = "De Bolleboos") -> Location:
    return Location(
        location_id=location_id, service_area="kempen-gml", name=name,
        municipality_nis="13008", postcode="2440", capacity=5, subsidy_tier="plus",
        min_age_months=3, max_age_months=30,
    )


def place(place_id: str, location_id: str = "loc-a") -> FreePlace:
    return FreePlace(
        place_id=place_id, location_id=location_id, available_from=START,
        min_age_months=6, max_age_months=24, source=PlaceSource.API,
    )


async def stored(uow: CapacityUnitOfWork, *locations: Location) -> None:
    async with uow:
        for each in locations:
            assert await uow.locations.add(each, registered_at=NOW)
        await uow.commit()


async def test_a_location_reads_back_as_it_was_stored(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location())
    async with uow:
        found = await uow.locations.get("loc-a", for_update=False)
        missing = await uow.locations.get("loc-nowhere")
    assert (found, missing) == (location(), None)


async def test_a_taken_location_id_is_not_stored_again(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location())
    async with uow:
        assert not await uow.locations.add(location(name="Iets anders"), registered_at=NOW)
        await uow.commit()
    async with uow:
        found = await uow.locations.get("loc-a")
    assert found is not None and found.name == "De Bolleboos"


async def test_open_places_are_counted_and_cancelled_places_are_not(
    uow: CapacityUnitOfWork,
) -> None:
    await stored(uow, location(), location("loc-b", name="Anders"))
    async with uow:
        await uow.places.add_all([place("p2"), place("p1"), place("p3", "loc-b")],
                                 recorded_at=NOW)
        await uow.commit()
    async with uow:
        found = await uow.locations.get("loc-a")
        assert found is not None and found.open_free_places == 2
        assert (await uow.places.exists("p1"), await uow.places.exists("p9")) == (True, False)
        assert await uow.places.cancel_open_at("loc-a") == ["p1", "p2"]
        assert await uow.places.cancel_open_at("loc-a") == []
        await uow.commit()
    async with uow:
        counts = {each.location_id: each.open_free_places for each in await uow.locations.all()}
        assert await uow.places.exists("p1")  # cancelled, still known: an id is used once
    assert counts == {"loc-a": 0, "loc-b": 1}


async def test_all_lists_by_name_then_id(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location("loc-c", "Zonneke"), location("loc-b", "Akkertje"),
                 location("loc-a", "Akkertje"))
    async with uow:
        listed = await uow.locations.all()
    assert [each.location_id for each in listed] == ["loc-a", "loc-b", "loc-c"]


async def test_a_saved_closure_keeps_the_location_closed(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location())
    async with uow:
        site = await uow.locations.get("loc-a")
        assert site is not None
        closure = site.close("closure-1", "bankruptcy", START, NOW)
        await uow.locations.save(site)
        await uow.closures.add(closure)
        await uow.commit()
    async with uow:
        found = await uow.locations.get("loc-a", for_update=False)
    assert found is not None and found.closed
