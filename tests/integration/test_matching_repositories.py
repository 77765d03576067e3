"""Matching's repositories: one set of behaviour tests, run against the in-memory
fakes and against PostgreSQL (migrated as in production), so the SQL that picks
candidates is the SQL that is tested."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.matching.adapters.uow import SqlMatchingUnitOfWork
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.model import (
    HOLDING,
    LIVE,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
)
from services.matching.domain.ranking import CandidateKey
from services.matching.domain.rounds import AllocationRound
from services.matching.ports import CandidateRead, MatchingUnitOfWork
from tests.unit.matching.fakes import FakeMatchingUnitOfWork
from tools.infra import Infra

AREA = "kempen-gml"
START = date(2027, 9, 1)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
MATCHING_TABLES = ("requests, request_locations, places, matches, closed_locations, locations, "
                   "enrolments, area_rankings, rounds")
T = TypeVar("T")


@pytest.fixture(scope="module")
async def matching_sessions(infra: Infra) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = infra.database_urls["matching"]
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def sql_uow(
    matching_sessions: async_sessionmaker[AsyncSession],
) -> SqlMatchingUnitOfWork:
    async with matching_sessions() as session, session.begin():
        await session.execute(text(f"TRUNCATE {MATCHING_TABLES}"))  # each test starts empty
    return SqlMatchingUnitOfWork(matching_sessions)


@pytest.fixture(params=["fake", pytest.param("sql", marks=pytest.mark.integration)])
def uow(request: pytest.FixtureRequest) -> MatchingUnitOfWork:
    if request.param == "fake":
        return FakeMatchingUnitOfWork()
    sql: MatchingUnitOfWork = request.getfixturevalue("sql_uow")
    return sql


async def in_unit(uow: MatchingUnitOfWork, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` in its own committed unit of work, as one handler call would."""
    async with uow:
        result = await work()
        await uow.commit()
    return result


def keys_of(request: WaitingRequest, sort_key: str | None = None,
            priority_group: bool = False) -> dict[str, CandidateKey]:
    """Candidate keys for every choice: by default the request id orders them."""
    return {location_id: CandidateKey(sort_key or request.request_id, priority_group)
            for location_id in request.preferred_location_ids}


async def add_requests(uow: MatchingUnitOfWork, *requests: WaitingRequest) -> None:
    async with uow:
        for request in requests:
            await uow.requests.add(request, keys_of(request))
        await uow.commit()


async def add_places(uow: MatchingUnitOfWork, *places: FreePlace) -> None:
    async with uow:
        for free in places:
            await uow.places.add(free)
        await uow.commit()


def waiting(request_id: str, *, born: str = "2026-10", locations: tuple[str, ...] = ("loc-a",),
            area: str = AREA) -> WaitingRequest:
    return WaitingRequest(
        request_id=request_id, service_area=area, municipality_nis="13008",
        birth_month=date.fromisoformat(f"{born}-01"), desired_start_date=START,
        day_parts=("mon_am", "mon_pm", "fri_am"), accepts_partial_fit=True,
        preferred_location_ids=locations, sibling_location_ids=("loc-b",),
        sibling_request_ids=("r-sister",), facts=("low_income", "vulnerable"), urgency="urgent",
        submitted_at=T0,
    )


def place(place_id: str, location_id: str = "loc-a", *, min_age: int = 0, max_age: int = 36,
          available: date = START, status: PlaceStatus = PlaceStatus.OPEN,
          area: str = AREA) -> FreePlace:
    return FreePlace(place_id=place_id, service_area=area, location_id=location_id,
                     municipality_nis="13053", available_from=available,
                     min_age_months=min_age, max_age_months=max_age,
                     day_parts=("tue_am", "wed_pm"), status=status)


async def candidates(uow: MatchingUnitOfWork, free: FreePlace, *, priority_first: bool = False,
                     offset: int = 0, limit: int = 100) -> list[str]:
    found = await in_unit(uow, lambda: uow.requests.candidates_for(
        free, priority_first=priority_first, offset=offset, limit=limit))
    return [request.request_id for request in found]


async def ids_of_candidates(uow: MatchingUnitOfWork, free: FreePlace) -> set[str]:
    return set(await candidates(uow, free))


async def test_a_request_is_stored_as_given_and_waits(uow: MatchingUnitOfWork) -> None:
    request = waiting("r1", locations=("loc-a", "loc-c"))
    await add_requests(uow, request)
    assert await in_unit(uow, lambda: uow.requests.get("r1")) == request
    assert request.status is RequestStatus.WAITING
    assert await in_unit(uow, lambda: uow.requests.get("unknown")) is None


async def set_status(uow: MatchingUnitOfWork, request_id: str, status: RequestStatus,
                     holding: tuple[str, ...] = ()) -> None:
    async with uow:
        found = await uow.requests.get(request_id)
        assert found is not None
        await uow.requests.save(found.model_copy(update={
            "status": status, "holding_location_ids": holding}), keys_of(found))
        await uow.commit()


async def test_a_saved_change_is_kept(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, waiting("r1"))
    await set_status(uow, "r1", RequestStatus.PROPOSED, holding=("loc-a",))
    found = await in_unit(uow, lambda: uow.requests.get("r1"))
    assert found is not None and found.status is RequestStatus.PROPOSED
    assert found.holding_location_ids == ("loc-a",)


async def test_changes_saved_together_are_read_back_in_the_unit_and_after_it(
    uow: MatchingUnitOfWork,
) -> None:
    await add_requests(uow, waiting("r1"), waiting("r2", locations=("loc-a", "loc-b")),
                       waiting("r3"))
    async with uow:
        locked = await uow.requests.lock_many(["r1", "r2", "r3"])
        proposed = locked["r1"].model_copy(update={
            "status": RequestStatus.PROPOSED, "holding_location_ids": ("loc-a",)})
        closed = locked["r2"].model_copy(update={"closed_location_ids": ("loc-a",)})
        await uow.requests.save_many([(proposed, keys_of(proposed)),
                                      (closed, keys_of(closed)),
                                      (locked["r3"], keys_of(locked["r3"]))])
        waiting_at_b = await uow.requests.candidates_for(
            place("p-b", "loc-b"), priority_first=False, offset=0, limit=10)
        assert waiting_at_b == [closed]  # as saved, not as first read in the unit
        assert await uow.requests.get("r1") == proposed
        assert await uow.requests.get("r2") == closed
        await uow.commit()
    assert await in_unit(uow, lambda: uow.requests.get("r1")) == proposed
    assert await in_unit(uow, lambda: uow.requests.get("r2")) == closed
    assert await in_unit(uow, lambda: uow.requests.get("r3")) == waiting("r3")
    assert await ids_of_candidates(uow, place("p-a", "loc-a")) == {"r3"}


async def test_a_request_waits_only_at_open_choices_ranked_above_what_it_holds(
    uow: MatchingUnitOfWork,
) -> None:
    await add_requests(uow, waiting("r1", locations=("loc-a", "loc-b", "loc-c", "loc-d")))
    async with uow:
        found = await uow.requests.get("r1")
        assert found is not None
        await uow.requests.save(found.model_copy(update={
            "status": RequestStatus.PROPOSED, "holding_location_ids": ("loc-c",),
            "closed_location_ids": ("loc-a",)}), keys_of(found))
        await uow.commit()
    assert [location for location in ("loc-a", "loc-b", "loc-c", "loc-d")
            if await ids_of_candidates(uow, place(f"p-{location}", location))] == ["loc-b"]


async def test_candidates_chose_the_place_location(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, waiting("first-choice", locations=("loc-a", "loc-b")),
                       waiting("second-choice", locations=("loc-b", "loc-a")),
                       waiting("elsewhere", locations=("loc-b",)))
    assert await ids_of_candidates(uow, place("p1")) == {"first-choice", "second-choice"}
    assert await ids_of_candidates(uow, place("p2", "loc-b")) == {
        "first-choice", "second-choice", "elsewhere"}
    assert await ids_of_candidates(uow, place("p3", "loc-z")) == set()


async def test_candidates_are_of_an_age_the_place_takes_in_whole_months(
    uow: MatchingUnitOfWork,
) -> None:
    # On 2027-09-15 a child born in 2025-09 is 24 months old, one born in 2026-09 is 12.
    await add_requests(uow, *(waiting(f"born-{born}", born=born)
                              for born in ("2025-08", "2025-09", "2026-01", "2026-09", "2026-10")))
    toddlers = place("p1", min_age=12, max_age=24, available=date(2027, 9, 15))
    assert await ids_of_candidates(uow, toddlers) == {"born-2025-09", "born-2026-01",
                                                      "born-2026-09"}
    babies = place("p2", min_age=0, max_age=11, available=date(2027, 9, 1))
    assert await ids_of_candidates(uow, babies) == {"born-2026-10"}


async def test_only_waiting_requests_are_candidates(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, *(waiting(request_id)
                              for request_id in ("waits", "proposed", "withdrawn", "back")))
    for request_id, status, holding in (
            ("proposed", RequestStatus.PROPOSED, ("loc-a",)),
            ("withdrawn", RequestStatus.WITHDRAWN, ()),
            ("back", RequestStatus.PROPOSED, ("loc-a",)), ("back", RequestStatus.WAITING, ())):
        await set_status(uow, request_id, status, holding)
    found = await in_unit(uow, lambda: uow.requests.candidates_for(
        place("p1"), priority_first=False, offset=0, limit=10))
    assert sorted(request.request_id for request in found) == ["back", "waits"]
    assert {request.status for request in found} == {RequestStatus.WAITING}


async def test_candidates_come_best_key_first_a_page_at_a_time(uow: MatchingUnitOfWork) -> None:
    requests = [waiting(f"r{n}") for n in range(7)]
    async with uow:
        for n, request in enumerate(requests):
            # keys in another order than the ids; r2 and r5 count for the quota
            await uow.requests.add(request, keys_of(request, f"k{(n * 3) % 7}",
                                                    priority_group=n in (2, 5)))
        await uow.commit()
    by_key = ["r0", "r5", "r3", "r1", "r6", "r4", "r2"]  # k0, k1, ... k6
    assert await candidates(uow, place("p1")) == by_key
    assert await candidates(uow, place("p1"), offset=2, limit=3) == by_key[2:5]
    assert await candidates(uow, place("p1"), priority_first=True) == [
        "r5", "r2", "r0", "r3", "r1", "r6", "r4"]
    async with uow:
        await uow.requests.rekey("r4", {"loc-a": CandidateKey("a-first", False)})
        await uow.commit()
    assert (await candidates(uow, place("p1"), limit=1)) == ["r4"]


async def test_several_locations_candidates_are_read_at_once_each_in_its_order(
    uow: MatchingUnitOfWork,
) -> None:
    requests = [waiting(f"r{n}", born="2026-10" if n % 3 else "2025-01",
                        locations=("loc-a", "loc-b")) for n in range(9)]
    async with uow:
        for n, request in enumerate(requests):
            await uow.requests.add(request, keys_of(request, f"k{(n * 4) % 9}",
                                                    priority_group=n in (2, 6, 7)))
        await uow.commit()
    autumn, everyone = (date(2026, 9, 1), date(2026, 12, 1)), (date(2024, 1, 1), START)
    reads = [CandidateRead("loc-a", *everyone, priority_first=False, limit=4),
             CandidateRead("loc-b", *autumn, priority_first=True, limit=5),
             CandidateRead("loc-a", *autumn, priority_first=True, limit=9),
             CandidateRead("loc-c", *everyone, priority_first=False, limit=3)]
    at_once = await in_unit(uow, lambda: uow.requests.candidates_born_at(reads))
    assert at_once[0][0] == requests[0]
    assert [[request.request_id for request in found] for found in at_once] == [
        ["r0", "r7", "r5", "r3"], ["r7", "r2", "r5", "r1", "r8"],
        ["r7", "r2", "r5", "r1", "r8", "r4"], []]
    assert await in_unit(uow, lambda: uow.requests.candidates_born_at([])) == []


async def test_waiting_requests_of_an_area_a_page_at_a_time(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, *(waiting(f"r{n}") for n in range(5)),
                       waiting("elsewhere", area="other"))
    await set_status(uow, "r3", RequestStatus.WITHDRAWN)
    first = await in_unit(uow, lambda: uow.requests.waiting_in_area(AREA, limit=2))
    rest = await in_unit(uow, lambda: uow.requests.waiting_in_area(AREA, after="r1"))
    assert [r.request_id for r in (*first, *rest)] == ["r0", "r1", "r2", "r4"]
    choosing = await in_unit(uow, lambda: uow.requests.choosing("loc-a"))
    assert len(choosing) == 6


async def test_requests_are_counted_per_status_in_their_area(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, waiting("r1"), waiting("r2"), waiting("r3"),
                       waiting("r4", area="other"))
    await set_status(uow, "r3", RequestStatus.WITHDRAWN)
    assert await in_unit(uow, lambda: uow.requests.count_by_status(AREA)) == {
        RequestStatus.WAITING: 2, RequestStatus.WITHDRAWN: 1}
    assert await in_unit(uow, lambda: uow.requests.count_by_status("nowhere")) == {}


async def test_a_place_is_stored_with_its_status(uow: MatchingUnitOfWork) -> None:
    cancelled = place("p1", status=PlaceStatus.CANCELLED)
    await in_unit(uow, lambda: uow.places.add(cancelled))
    assert await in_unit(uow, lambda: uow.places.get("p1")) == cancelled
    assert await in_unit(uow, lambda: uow.places.get("unknown")) is None
    await in_unit(uow, lambda: uow.places.set_status("p1", PlaceStatus.OPEN))
    found = await in_unit(uow, lambda: uow.places.get("p1"))
    assert found is not None and found.status is PlaceStatus.OPEN


async def test_open_places_at_the_given_locations(uow: MatchingUnitOfWork) -> None:
    await add_places(uow, place("a-open"), place("a-proposed", status=PlaceStatus.PROPOSED),
                     place("b-open", "loc-b"), place("c-open", "loc-c"))
    found = await in_unit(uow, lambda: uow.places.open_at(("loc-a", "loc-b")))
    assert sorted(free.place_id for free in found) == ["a-open", "b-open"]
    assert await in_unit(uow, lambda: uow.places.open_at(())) == []


async def test_open_places_of_an_area_in_a_period(uow: MatchingUnitOfWork) -> None:
    await add_places(uow, place("in", available=START), place("late", available=date(2028, 1, 1)),
                     place("taken", status=PlaceStatus.PROPOSED), place("other", area="other"))
    found = await in_unit(uow, lambda: uow.places.open_in_area(AREA, START, date(2027, 12, 31)))
    assert [p.place_id for p in found] == ["in"]


async def test_a_location_knows_its_tier_and_counts_its_children(uow: MatchingUnitOfWork) -> None:
    async with uow:
        await uow.locations.register(KnownLocation(location_id="loc-a", municipality_nis="13053",
                                                   subsidy_tier="plus"))
        await uow.locations.replace_declared("loc-a", [("e1", True), ("e2", False), ("e3", False)])
        await uow.locations.enrol("placed-1", "loc-a", True)
        await uow.commit()
    async with uow:
        await uow.locations.replace_declared("loc-a", [("e1", True), ("e4", True)])  # e2, e3 left
        await uow.locations.end_enrolment("placed-1")
        await uow.locations.enrol("placed-2", "loc-a", False)
        await uow.commit()
    found = await in_unit(uow, lambda: uow.locations.get_many(["loc-a", "loc-new"]))
    assert found["loc-a"] == KnownLocation(location_id="loc-a", municipality_nis="13053",
                                           subsidy_tier="plus", enrolled=3, priority_enrolled=2)
    assert found["loc-new"] == KnownLocation(location_id="loc-new")


async def test_a_location_read_in_a_batch_counts_the_children_enrolled_later_in_it(
    uow: MatchingUnitOfWork,
) -> None:
    """A batch of events is one unit of work: a location read early in it (and kept)
    still counts a child enrolled, declared or ended later in the same batch."""
    async with uow:
        before = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.locations.register(KnownLocation(location_id="loc-a", municipality_nis="13053",
                                                   subsidy_tier="plus"))
        registered = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.locations.enrol("placed-1", "loc-a", True)
        enrolled = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.locations.replace_declared("loc-a", [("e1", False), ("e2", False)])
        declared = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.locations.end_enrolment("placed-1")
        ended = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.locations.end_enrolment("e2")
        await uow.locations.end_enrolment("never-enrolled")
        ended_again = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.commit()
    fresh = await in_unit(uow, lambda: uow.locations.get_many(["loc-a"]))
    assert (before.subsidy_tier, before.enrolled) == ("basic", 0)
    assert (registered.subsidy_tier, registered.enrolled) == ("plus", 0)
    assert (enrolled.enrolled, enrolled.priority_enrolled) == (1, 1)
    assert (declared.enrolled, declared.priority_enrolled) == (3, 1)
    assert (ended.enrolled, ended.priority_enrolled) == (2, 0)
    assert ended_again == fresh["loc-a"]
    assert (fresh["loc-a"].enrolled, fresh["loc-a"].priority_enrolled) == (1, 0)


@pytest.mark.integration
async def test_a_declaration_rewrites_only_the_children_it_changes(
    sql_uow: SqlMatchingUnitOfWork, matching_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A year's declarations repeat the location's list with a child more or less: the
    row of a child named again unchanged is left as it is (the same row version); one
    whose priority group changed, or the loket placed here, is written."""
    uow = sql_uow

    async def row_versions() -> dict[str, str]:
        async with matching_sessions() as session:
            return dict((await session.execute(text(
                "SELECT enrolment_id, xmin::text FROM enrolments"))).all())

    async with uow:
        await uow.locations.replace_declared("loc-a", [("same", True), ("regrouped", False),
                                                       ("left", False)])
        await uow.locations.enrol("placed", "loc-a", True)
        await uow.commit()
    before = await row_versions()
    async with uow:
        await uow.locations.get_many(["loc-a"])  # counted ahead, as a batch does
        await uow.locations.replace_declared("loc-a", [("same", True), ("regrouped", True),
                                                       ("placed", True), ("new", False)])
        in_unit = (await uow.locations.get_many(["loc-a"]))["loc-a"]
        await uow.commit()
    after = await row_versions()
    fresh = await in_unit_counts(uow)
    assert sorted(after) == ["new", "placed", "regrouped", "same"]
    assert after["same"] == before["same"]
    assert all(after[changed] != before[changed] for changed in ("regrouped", "placed"))
    assert (in_unit.enrolled, in_unit.priority_enrolled) == fresh == (4, 3)


async def in_unit_counts(uow: MatchingUnitOfWork) -> tuple[int, int]:
    found = (await in_unit(uow, lambda: uow.locations.get_many(["loc-a"])))["loc-a"]
    return found.enrolled, found.priority_enrolled


async def test_a_child_moving_to_another_location_is_counted_there_and_not_where_it_was(
    uow: MatchingUnitOfWork,
) -> None:
    async with uow:
        await uow.locations.replace_declared("loc-a", [("e1", True), ("e2", False)])
        await uow.locations.enrol("placed-1", "loc-a", True)
        await uow.commit()
    async with uow:
        locations = ["loc-a", "loc-b", "loc-c"]
        read = await uow.locations.get_many(locations)  # kept in the unit
        await uow.locations.replace_declared("loc-b", [("e1", True)])  # declared at b now
        declared = await uow.locations.get_many(locations)
        await uow.locations.enrol("placed-1", "loc-c", True)  # placed at c instead
        placed = await uow.locations.get_many(locations)
        await uow.commit()

    def counts(found: dict[str, KnownLocation]) -> list[tuple[int, int]]:
        return [(found[n].enrolled, found[n].priority_enrolled) for n in locations]

    assert counts(read) == [(3, 2), (0, 0), (0, 0)]
    assert counts(declared) == [(2, 1), (1, 1), (0, 0)]
    assert counts(placed) == [(1, 0), (1, 1), (1, 1)]


async def test_a_child_placed_declared_elsewhere_and_placed_again_in_one_unit_counts_once(
    uow: MatchingUnitOfWork,
) -> None:
    async with uow:
        await uow.locations.enrol("x", "loc-a", False)  # the unit holds its record
        await uow.locations.replace_declared("loc-b", [("x", False)])  # moved past it
        await uow.locations.get_many(["loc-a", "loc-b", "loc-c"])
        await uow.locations.enrol("x", "loc-c", False)
        found = await uow.locations.get_many(["loc-a", "loc-b", "loc-c"])
        await uow.commit()
    assert [found[n].enrolled for n in ("loc-a", "loc-b", "loc-c")] == [0, 0, 1]


async def test_an_area_remembers_the_rules_its_keys_were_computed_with(
    uow: MatchingUnitOfWork,
) -> None:
    await add_requests(uow, waiting("r1"), waiting("r2", area="other"))
    assert await in_unit(uow, lambda: uow.rankings.basis(AREA)) is None
    await in_unit(uow, lambda: uow.rankings.set_basis(AREA, "vlaanderen-2025|1", T0))
    assert await in_unit(uow, lambda: uow.rankings.basis(AREA)) == "vlaanderen-2025|1"
    assert sorted(await in_unit(uow, lambda: uow.rankings.areas())) == [AREA, "other"]


async def test_a_round_is_stored_with_its_figures(uow: MatchingUnitOfWork) -> None:
    found = AllocationRound(
        round_id="round-1", service_area=AREA, decision_date=date(2027, 5, 1),
        period_from=START, period_to=date(2027, 12, 31), lottery_seed=2**61,
        rule_sets=["vlaanderen-2025"], report={"assignments": [
            {"request_id": "r1", "place_id": "p1", "location_id": "loc-a"}]}, run_at=T0)
    await in_unit(uow, lambda: uow.rounds.add(found))
    assert await in_unit(uow, lambda: uow.rounds.get("round-1")) == found
    published = found.model_copy(update={"published_at": T0, "offers_made": 1})
    await in_unit(uow, lambda: uow.rounds.save(published))
    assert await in_unit(uow, lambda: uow.rounds.of_area(AREA)) == [published]
    assert published.assignments() == [("r1", "p1")]


async def test_a_closure_cancels_open_and_proposed_places_of_its_location(
    uow: MatchingUnitOfWork,
) -> None:
    await add_places(uow, place("open"), place("proposed", status=PlaceStatus.PROPOSED),
                     place("elsewhere", "loc-b"))
    await in_unit(uow, lambda: uow.places.cancel_at("loc-a"))
    assert await in_unit(uow, lambda: uow.places.count_by_status(AREA)) == {
        PlaceStatus.CANCELLED: 2, PlaceStatus.OPEN: 1}
    assert await in_unit(uow, lambda: uow.places.count_by_status("nowhere")) == {}


def offer(match_id: str, place_id: str = "p1", request_id: str = "r1", *,
          location_id: str = "loc-a", status: MatchStatus = MatchStatus.PROPOSED,
          due: datetime = T0 + timedelta(days=7), area: str = AREA) -> Match:
    return Match(match_id=match_id, service_area=area, request_id=request_id,
                 place_id=place_id, location_id=location_id,
                 location_municipality_nis="13053", request_municipality_nis="13008",
                 proposed_at=T0, status=status, fit="partial", day_parts=("mon_am", "tue_pm"),
                 family_answer_due=due, family_reminder_due=due - timedelta(days=1),
                 organiser_answer_due=due + timedelta(days=7))


async def add_offers(uow: MatchingUnitOfWork, *offers: Match) -> None:
    async with uow:
        for match in offers:
            await uow.matches.add(match)
        await uow.commit()


async def test_an_offer_is_stored_as_given_and_found_by_request_place_and_location(
    uow: MatchingUnitOfWork,
) -> None:
    first = offer("m1")
    await add_offers(uow, first, offer("m2", "p2", location_id="loc-b"),
                     offer("m3", "p3", status=MatchStatus.CONFIRMED),
                     offer("m4", "p4", "r2", status=MatchStatus.DECLINED))
    assert await in_unit(uow, lambda: uow.matches.get("m1")) == first
    assert await in_unit(uow, lambda: uow.matches.get("unknown")) is None
    live = await in_unit(uow, lambda: uow.matches.of_request("r1", LIVE))
    assert sorted(m.match_id for m in live) == ["m1", "m2"]
    holding = await in_unit(uow, lambda: uow.matches.of_request("r1", HOLDING))
    assert sorted(m.match_id for m in holding) == ["m1", "m2", "m3"]
    assert [m.match_id for m in await in_unit(uow, lambda: uow.matches.live_at("loc-a"))] == [
        "m1"]
    assert await in_unit(uow, lambda: uow.matches.live_of_place("p1")) == first
    assert await in_unit(uow, lambda: uow.matches.live_of_place("p3")) is None


async def test_an_offer_moves_only_from_the_statuses_given_once(
    uow: MatchingUnitOfWork,
) -> None:
    await add_offers(uow, offer("m1"))
    accepted = await in_unit(uow, lambda: uow.matches.transition(
        "m1", {MatchStatus.PROPOSED}, MatchStatus.ACCEPTED, keep_waiting=True))
    assert accepted is not None
    assert (accepted.status, accepted.keep_waiting) == (MatchStatus.ACCEPTED, True)
    assert await in_unit(uow, lambda: uow.matches.transition(
        "m1", {MatchStatus.PROPOSED}, MatchStatus.EXPIRED)) is None
    found = await in_unit(uow, lambda: uow.matches.get("m1"))
    assert found is not None and found.status is MatchStatus.ACCEPTED
    # an ended offer frees the place for another live one
    await in_unit(uow, lambda: uow.matches.transition("m1", LIVE, MatchStatus.CANCELLED))
    await add_offers(uow, offer("m2", request_id="r2"))
    assert await in_unit(uow, lambda: uow.matches.live_of_place("p1")) == offer(
        "m2", request_id="r2")


async def test_a_reminder_is_recorded_once(uow: MatchingUnitOfWork) -> None:
    await add_offers(uow, offer("m1"))
    assert await in_unit(uow, lambda: uow.matches.mark_reminded("m1", "family", T0))
    assert not await in_unit(uow, lambda: uow.matches.mark_reminded("m1", "family", T0))
    assert await in_unit(uow, lambda: uow.matches.mark_reminded("m1", "organiser", T0))
    found = await in_unit(uow, lambda: uow.matches.get("m1"))
    assert found is not None
    assert (found.family_reminded_at, found.organiser_reminded_at) == (T0, T0)


async def test_due_offers_are_claimed_until_their_deadlines_fired(
    uow: MatchingUnitOfWork,
) -> None:
    now = T0 + timedelta(days=10)
    await add_offers(
        uow,
        offer("expires", "p1", due=now),
        offer("reminded", "p2", due=now + timedelta(hours=1)),
        offer("later", "p3", due=now + timedelta(days=2)),
        offer("organiser", "p4", status=MatchStatus.ACCEPTED, due=now - timedelta(days=7)),
        offer("ended", "p5", status=MatchStatus.DECLINED, due=now - timedelta(days=9)),
    )
    due = await in_unit(uow, lambda: uow.matches.claim_due(now, 10))
    assert sorted(m.match_id for m in due) == ["expires", "organiser", "reminded"]
    assert len(await in_unit(uow, lambda: uow.matches.claim_due(now, 2))) == 2
    await in_unit(uow, lambda: uow.matches.mark_reminded("reminded", "family", now))
    await in_unit(uow, lambda: uow.matches.mark_reminded("organiser", "organiser", now))
    await in_unit(uow, lambda: uow.matches.transition("expires", LIVE, MatchStatus.EXPIRED))
    assert await in_unit(uow, lambda: uow.matches.claim_due(now, 10)) == []


async def test_offers_past_the_organiser_deadline_of_one_area(uow: MatchingUnitOfWork) -> None:
    now = T0 + timedelta(days=20)
    await add_offers(uow, offer("late", "p1", status=MatchStatus.ACCEPTED),
                     offer("in-time", "p2", due=now),
                     offer("done", "p3", status=MatchStatus.CONFIRMED),
                     offer("elsewhere", "p4", area="other"))
    found = await in_unit(uow, lambda: uow.matches.organiser_overdue(AREA, now))
    assert [m.match_id for m in found] == ["late"]


async def test_urgent_requests_without_an_offer(uow: MatchingUnitOfWork) -> None:
    await add_requests(uow, waiting("urgent"), waiting("offered"),
                       waiting("normal").model_copy(update={"urgency": "normal"}))
    await set_status(uow, "offered", RequestStatus.PROPOSED, ("loc-a",))
    found = await in_unit(uow, lambda: uow.requests.urgent_without_offer(AREA))
    assert [request.request_id for request in found] == ["urgent"]


async def test_a_closed_location_stays_closed(uow: MatchingUnitOfWork) -> None:
    assert not await in_unit(uow, lambda: uow.closures.is_closed("loc-a"))
    await in_unit(uow, lambda: uow.closures.close("loc-a", T0))
    await in_unit(uow, lambda: uow.closures.close("loc-a", T0))  # announced twice
    assert await in_unit(uow, lambda: uow.closures.is_closed("loc-a"))
    assert not await in_unit(uow, lambda: uow.closures.is_closed("loc-b"))


@pytest.mark.integration
async def test_nothing_is_kept_without_a_commit(sql_uow: SqlMatchingUnitOfWork) -> None:
    # SQL only: the fake keeps its rows across units of work by design.
    async with sql_uow:
        await sql_uow.requests.add(waiting("r1"), keys_of(waiting("r1")))
        await sql_uow.places.add(place("p1"))
    assert await in_unit(sql_uow, lambda: sql_uow.requests.get("r1")) is None
    assert await in_unit(sql_uow, lambda: sql_uow.places.get("p1")) is None


async def test_an_areas_first_keys_record_their_basis_and_the_job_replaces_it(
    uow: MatchingUnitOfWork,
) -> None:
    async with uow:
        await uow.rankings.keyed_under(AREA, "rules-1", T0)
        await uow.rankings.keyed_under(AREA, "rules-2", T0)  # recorded already
        await uow.commit()
    async with uow:
        await uow.rankings.keyed_under(AREA, "rules-3", T0)
        assert await uow.rankings.basis(AREA) == "rules-1"
        await uow.rankings.set_basis(AREA, "rules-4", T0)  # the job computed them again
        await uow.commit()
    assert await in_unit(uow, lambda: uow.rankings.basis(AREA)) == "rules-4"
    assert await in_unit(uow, lambda: uow.rankings.basis("elders")) is None
