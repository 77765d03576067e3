"""Capacity's repository behaviour, written once and run against the in-memory fakes
and against PostgreSQL (the SQL variant is marked `integration`), so the fakes the
unit tests trust behave like the SQL that ships."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.bootstrap import MIGRATIONS
from services.capacity.domain.model import (
    Closure,
    ClosureStatus,
    Enrolment,
    EnrolmentSource,
    FreePlace,
    Location,
    Offer,
    OfferStatus,
    PlaceSource,
    PlaceStatus,
)
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
        await connection.execute(text(
            "TRUNCATE closures, enrolments, offers, free_places, locations"))
    yield SqlCapacityUnitOfWork(make_session_factory(engine))
    await engine.dispose()


def location(location_id: str = "loc-a", name: str = "De Bolleboos") -> Location:
    return Location(
        location_id=location_id, service_area="kempen-gml", name=name,
        municipality_nis="13008", postcode="2440", capacity=5, subsidy_tier="plus",
        min_age_months=3, max_age_months=30, organiser_email="opvang@example.org",
    )


def place(place_id: str, location_id: str = "loc-a") -> FreePlace:
    return FreePlace(
        place_id=place_id, location_id=location_id, available_from=START,
        day_parts=("mon_am", "wed_pm"), min_age_months=6, max_age_months=24,
        source=PlaceSource.API,
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


async def test_a_saved_location_keeps_its_licence_and_closure(
    uow: CapacityUnitOfWork,
) -> None:
    await stored(uow, location())
    async with uow:
        site = await uow.locations.get("loc-a")
        assert site is not None
        site.declare_capacity(9)
        site.close()
        await uow.locations.save(site)
        await uow.commit()
    async with uow:
        found = await uow.locations.get("loc-a", for_update=False)
    assert found is not None and (found.closed, found.licensed_places, found.capacity) == (
        True, 9, 5)


async def test_places_read_back_with_their_day_parts_and_status(
    uow: CapacityUnitOfWork,
) -> None:
    await stored(uow, location())
    async with uow:
        await uow.places.add_all([place("p1"), place("p2")], recorded_at=NOW)
        await uow.places.set_status("p1", PlaceStatus.WITHDRAWN)
        await uow.commit()
    async with uow:
        withdrawn = await uow.places.get("p1")
        still_open = await uow.places.open_at("loc-a")
        missing = await uow.places.get("p9")
    assert withdrawn == place("p1").model_copy(update={"status": PlaceStatus.WITHDRAWN})
    assert (still_open, missing) == ([place("p2")], None)


def enrolment(enrolment_id: str, source: EnrolmentSource = EnrolmentSource.DECLARED,
              request_id: str | None = None, location_id: str = "loc-a") -> Enrolment:
    return Enrolment(enrolment_id=enrolment_id, location_id=location_id,
                     day_parts=("mon_am", "tue_am"), start_date=START, request_id=request_id,
                     source=source, priority_group=True)


async def test_enrolments_are_stored_ended_and_replaced_by_a_declaration(
    uow: CapacityUnitOfWork,
) -> None:
    await stored(uow, location(), location("loc-b", name="Anders"))
    placed = enrolment("enr-1", EnrolmentSource.LOKET, request_id="req-1")
    async with uow:
        await uow.enrolments.add(placed)
        await uow.enrolments.add(enrolment("enr-2", EnrolmentSource.LOKET, "req-1", "loc-b"))
        await uow.enrolments.replace_declared("loc-a", [enrolment("own-1"), enrolment("own-2")])
        await uow.commit()
    async with uow:
        await uow.enrolments.replace_declared("loc-a", [enrolment("own-3")])
        await uow.enrolments.save(placed.end(START + timedelta(days=30), "left"))
        await uow.commit()
    async with uow:
        at_a = await uow.enrolments.at_location("loc-a")
        of_request = await uow.enrolments.of_request("req-1")
        found = await uow.enrolments.get("enr-1")
        missing = await uow.enrolments.get("own-1")
    assert [e.enrolment_id for e in at_a] == ["enr-1", "own-3"]
    assert sorted(e.enrolment_id for e in of_request) == ["enr-1", "enr-2"]
    assert found == placed.end(START + timedelta(days=30), "left")
    assert missing is None


async def test_a_declaration_read_in_its_own_unit_reads_back_as_declared_again(
    uow: CapacityUnitOfWork,
) -> None:
    """An organiser declares the same child again with an end date, in a unit that read
    the earlier declaration first (as the handler does): the new one is what is read."""
    await stored(uow, location())
    async with uow:
        await uow.enrolments.replace_declared("loc-a", [enrolment("own-1"), enrolment("own-2")])
        await uow.commit()
    leaving = enrolment("own-1").model_copy(update={"ends_on": START + timedelta(days=90)})
    async with uow:
        assert len(await uow.enrolments.get_many(["own-1", "own-2"])) == 2
        await uow.enrolments.replace_declared("loc-a", [leaving])
        in_unit = await uow.enrolments.at_location("loc-a")
        await uow.commit()
    async with uow:
        after = await uow.enrolments.at_location("loc-a")
    assert in_unit == after == [leaving]


async def redeclared(uow: CapacityUnitOfWork, read_first: bool) -> list[Enrolment]:
    """own-1..3 and a loket child at loc-a, then a declaration keeping own-1, ending
    own-2, leaving own-3 out and adding own-4: what the unit then reads there."""
    await stored(uow, location())
    async with uow:
        await uow.enrolments.add(enrolment("enr-1", EnrolmentSource.LOKET, "req-1"))
        await uow.enrolments.replace_declared(
            "loc-a", [enrolment("own-1"), enrolment("own-2"), enrolment("own-3")])
        await uow.commit()
    leaving = enrolment("own-2").model_copy(update={"ends_on": START + timedelta(days=90)})
    async with uow:
        if read_first:  # as a batch reads its locations' children ahead
            await uow.enrolments.at_locations(["loc-a"])
        await uow.enrolments.replace_declared(
            "loc-a", [enrolment("own-1"), leaving, enrolment("own-4")])
        in_unit = await uow.enrolments.at_location("loc-a")
        await uow.commit()
    async with uow:
        fresh = await uow.enrolments.at_location("loc-a")
        gone = await uow.enrolments.get("own-3")
    assert in_unit == fresh
    assert gone is None
    return fresh


@pytest.mark.parametrize("read_first", [False, True])
async def test_a_declaration_keeps_the_children_it_names_again(
    uow: CapacityUnitOfWork, read_first: bool,
) -> None:
    leaving = enrolment("own-2").model_copy(update={"ends_on": START + timedelta(days=90)})
    assert await redeclared(uow, read_first) == [
        enrolment("enr-1", EnrolmentSource.LOKET, "req-1"), enrolment("own-1"), leaving,
        enrolment("own-4")]


@pytest.mark.integration
async def test_a_declaration_rewrites_only_the_children_it_changes(infra: Infra) -> None:
    """A year's declarations repeat the location's list with a child more or less: the
    row of a child named again unchanged is left as it is (the same row version)."""
    url = infra.database_urls["capacity"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    uow = SqlCapacityUnitOfWork(make_session_factory(engine))

    async def row_versions() -> dict[str, str]:
        async with engine.connect() as connection:
            return dict((await connection.execute(text(
                "SELECT enrolment_id, xmin::text FROM enrolments"))).all())

    try:
        async with engine.begin() as connection:
            await connection.execute(text(
                "TRUNCATE closures, enrolments, offers, free_places, locations"))
        await stored(uow, location())
        for declared in (["own-1", "own-2"], ["own-1", "own-3"]):
            before = await row_versions()
            async with uow:
                await uow.enrolments.replace_declared(
                    "loc-a", [enrolment(enrolment_id) for enrolment_id in declared])
                await uow.commit()
        after = await row_versions()
    finally:
        await engine.dispose()
    assert set(after) == {"own-1", "own-3"}
    assert after["own-1"] == before["own-1"]
    assert after["own-3"] != before.get("own-3")


async def test_what_a_unit_read_ahead_follows_its_own_writes(uow: CapacityUnitOfWork) -> None:
    """A batch reads its locations' open places and children, and which freed places are
    known, once: each write later in the same unit shows in them as in a fresh read."""
    await stored(uow, location(), location("loc-b", name="Anders"))
    async with uow:
        await uow.places.add_all([place("p1"), place("p2"), place("p3", "loc-b")],
                                 recorded_at=NOW)
        await uow.enrolments.replace_declared("loc-a", [enrolment("own-1")])
        await uow.commit()

    async def reads() -> tuple[list[str], set[str], Enrolment | None]:
        open_places = await uow.places.open_at_locations(["loc-b", "loc-a"])
        return ([each.place_id for each in open_places],
                await uow.places.known_among(["p1", "p4", "p5"]),
                await uow.enrolments.get("own-1"))

    async with uow:
        assert await reads() == (["p1", "p2", "p3"], {"p1"}, enrolment("own-1"))
        await uow.enrolments.at_locations(["loc-a", "loc-b"])
        await uow.places.add_all([place("p4")], recorded_at=NOW)
        await uow.places.set_status("p1", PlaceStatus.FILLED)
        await uow.places.cancel_open_at("loc-b")
        await uow.enrolments.save(enrolment("own-1").end(START + timedelta(days=30), "left"))
        in_unit = await reads()
        await uow.commit()
    async with uow:
        fresh = await reads()
    assert in_unit == fresh == (
        ["p2", "p4"], {"p1", "p4"}, enrolment("own-1").end(START + timedelta(days=30), "left"))


async def test_offers_are_stored_and_replaced(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location())
    proposed = Offer(
        match_id="m2", request_id="r1", place_id="p1", location_id="loc-a", start_date=START,
        day_parts=("mon_am", "mon_pm"), requested_day_parts=("mon_am",), priority_group=True,
        family_answer_due=NOW, organiser_answer_due=NOW + timedelta(days=14),
    )
    stub = Offer(match_id="m1", request_id="r2", place_id="p2", location_id="loc-a",
                 status=OfferStatus.ENDED, ended_reason="expired")
    async with uow:
        await uow.offers.save(proposed)
        await uow.offers.save(stub)
        await uow.commit()
    accepted = proposed.moved_to(OfferStatus.ACCEPTED, keep_waiting_for_higher_choices=True)
    async with uow:
        await uow.offers.save(accepted)
        await uow.commit()
    async with uow:
        listed = await uow.offers.at_location("loc-a")
        missing = await uow.offers.get("m9")
    assert (listed, missing) == ([stub, accepted], None)


async def test_closures_read_back_registered_and_released(uow: CapacityUnitOfWork) -> None:
    await stored(uow, location())
    closure = Closure(closure_id="c1", location_id="loc-a", service_area="kempen-gml",
                      reason="licence_suspended", effective_from=START,
                      expected_end=START + timedelta(days=90), registered_at=NOW)
    async with uow:
        await uow.closures.add(closure)
        await uow.commit()
    async with uow:
        registered = await uow.closures.get("c1")
        assert registered == closure
        offer = Offer(match_id="m1", request_id="r1", place_id="p1", location_id="loc-a")
        released = closure.released(NOW, [enrolment("own-1")], [offer], ["p2"])
        await uow.closures.save(released)
        await uow.commit()
    async with uow:
        found = await uow.closures.get("c1", for_update=False)
        in_area = await uow.closures.in_area("kempen-gml")
        elsewhere = await uow.closures.in_area("elders")
        at_location = await uow.closures.at_location("loc-a")
    assert found == released and found.status is ClosureStatus.RELEASED
    assert (in_area, elsewhere, at_location) == ([released], [], [released])
