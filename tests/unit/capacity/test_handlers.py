"""Capacity's use cases through the command bus, in memory: what gets published,
and what is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi import FastAPI

from contracts.events import (
    CapacityDeclared,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    PlaceFreed,
    PlaceWithdrawn,
)
from contracts.schedule import DAY_PARTS, DayPart
from loketkit.errors import NotFound
from loketkit.testing import ActingBus, deliver
from services.capacity.domain.commands import (
    DeclareCapacity,
    DeclareEnrolments,
    EndEnrolment,
    OfferFreePlaces,
    RegisterLocation,
    WithdrawPlace,
)
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Location,
    PlaceStatus,
)
from tests.unit.capacity.conftest import NEXT_MONTH, NOW, TODAY, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

MON_TO_WED: tuple[DayPart, ...] = DAY_PARTS[:6]
THU_FRI: tuple[DayPart, ...] = DAY_PARTS[6:]


def register(
    location_id: str | None = "loc-a", capacity: int = 14, nis: str = "13008"
) -> RegisterLocation:
    return RegisterLocation(
        location_id=location_id, name="Kinderdagverblijf De Bolleboos", municipality_nis=nis,
        postcode="2440", capacity=capacity, subsidy_tier="income_related",
        organiser_email="opvang@bolleboos.example",
    )


def offer(
    count: int, location_id: str = "loc-a", parts: tuple[DayPart, ...] = DAY_PARTS,
    available_from: date = NEXT_MONTH,
) -> OfferFreePlaces:
    return OfferFreePlaces(location_id=location_id, available_from=available_from,
                           count=count, day_parts=parts)


def declared(number: int, parts: tuple[DayPart, ...], start: date = TODAY,
             end: date | None = None) -> DeclaredEnrolment:
    return DeclaredEnrolment(enrolment_id=f"own-{number}", start_date=start, end_date=end,
                             day_parts=list(parts))


async def test_registering_a_location_publishes_location_registered(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    location: Location = await bus.handle(register())
    assert (location.location_id, location.service_area) == ("loc-a", "kempen-gml")
    assert location.licensed_places == 14
    [event] = uow.published_data()
    assert isinstance(event, LocationRegistered)
    assert (event.location_id, event.municipality_nis, event.capacity) == ("loc-a", "13008", 14)
    assert event.registered_at == NOW
    assert "opvang@" not in uow.published[0].model_dump_json()  # a business address stays
    assert uow.published[0].source == "/loket/capacity"


async def test_a_location_without_an_id_gets_a_new_one(bus: ActingBus) -> None:
    location: Location = await bus.handle(register(location_id=None))
    assert location.location_id == "loc-1"


async def test_registering_the_same_location_twice_is_a_conflict(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(register())
    assert refused.value.field == "location_id"
    assert len(uow.published) == 1


async def test_a_location_outside_the_service_area_is_refused_and_not_published(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    with pytest.raises(CapacityRuleError) as refused:
        await bus.handle(register(nis="11002"))
    assert refused.value.field == "municipality_nis"
    assert uow.published == []


async def test_declaring_capacity_changes_the_licence_and_is_published(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register(capacity=2))
    await bus.handle(offer(2))
    with pytest.raises(CapacityConflict):
        await bus.handle(offer(1))
    location: Location = await bus.handle(DeclareCapacity("loc-a", licensed_places=3))
    assert location.licensed_places == 3
    declared_ = uow.published_data()[-1]
    assert isinstance(declared_, CapacityDeclared)
    assert (declared_.licensed_places, declared_.municipality_nis) == (3, "13008")
    await bus.handle(offer(1))  # room for one more now


async def test_free_places_publish_one_place_freed_per_place_with_day_parts(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    places = await bus.handle(offer(3, parts=("tue_pm", "mon_am")))
    freed = [event for event in uow.published_data() if isinstance(event, PlaceFreed)]
    assert [event.place_id for event in freed] == [place.place_id for place in places]
    assert [event.place_id for event in freed] == ["place-1", "place-2", "place-3"]
    assert {(e.min_age_months, e.max_age_months, e.available_from) for e in freed} == {
        (0, 36, NEXT_MONTH)
    }
    assert {tuple(e.day_parts) for e in freed} == {("mon_am", "tue_pm")}
    assert {event.freed_at for event in freed} == {NOW}


async def test_a_location_with_14_places_holds_20_part_time_children(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register(capacity=14))
    await bus.handle(offer(14, parts=MON_TO_WED, available_from=TODAY))
    await bus.handle(offer(6, parts=THU_FRI, available_from=TODAY))
    published = len(uow.published)
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(offer(1))  # a 15th full-week child
    assert refused.value.field == "day_parts"
    assert len(uow.published) == published


async def test_an_ended_enrolment_lets_a_new_free_place_through(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register(capacity=1))
    await bus.handle(DeclareEnrolments("loc-a", (declared(1, DAY_PARTS),)))
    with pytest.raises(CapacityConflict):
        await bus.handle(offer(1))
    await bus.handle(EndEnrolment("own-1", ended_on=NEXT_MONTH, reason="left"))
    ended = uow.published_data()[-1]
    assert isinstance(ended, EnrolmentEnded)
    assert (ended.enrolment_id, ended.ended_on, ended.reason) == ("own-1", NEXT_MONTH, "left")
    await bus.handle(offer(1))
    with pytest.raises(CapacityConflict) as again:
        await bus.handle(EndEnrolment("own-1", ended_on=NEXT_MONTH, reason="left"))
    assert again.value.field == "enrolment_id"


async def test_a_declaration_replaces_the_declared_enrolments_only(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    await bus.handle(DeclareEnrolments("loc-a", (declared(1, MON_TO_WED),
                                                 declared(2, THU_FRI))))
    await bus.handle(DeclareEnrolments("loc-a", (declared(3, THU_FRI),)))
    assert sorted(uow.enrolments.enrolments) == ["own-3"]
    event = uow.published_data()[-1]
    assert isinstance(event, EnrolmentsDeclared)
    assert [e.enrolment_id for e in event.enrolments] == ["own-3"]
    with pytest.raises(CapacityRuleError) as twice:
        await bus.handle(DeclareEnrolments("loc-a", (declared(4, THU_FRI),
                                                     declared(4, MON_TO_WED))))
    assert twice.value.field == "enrolments"


async def test_a_declared_end_date_is_the_last_day(bus: ActingBus) -> None:
    await bus.handle(register(capacity=1))
    last_day = NEXT_MONTH - timedelta(days=1)
    await bus.handle(DeclareEnrolments("loc-a", (declared(1, DAY_PARTS, end=last_day),)))
    await bus.handle(offer(1, available_from=NEXT_MONTH))
    with pytest.raises(CapacityConflict):
        await bus.handle(offer(1, available_from=last_day))


async def test_withdrawing_a_free_place_publishes_place_withdrawn_once(
    bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register(capacity=1))
    [place] = await bus.handle(offer(1))
    await bus.handle(WithdrawPlace("loc-a", place.place_id))
    withdrawn = uow.published_data()[-1]
    assert isinstance(withdrawn, PlaceWithdrawn)
    assert withdrawn.place_id == place.place_id
    assert uow.places.places[place.place_id].status is PlaceStatus.WITHDRAWN
    with pytest.raises(CapacityConflict) as again:
        await bus.handle(WithdrawPlace("loc-a", place.place_id))
    assert again.value.field == "place_id"
    await bus.handle(offer(1))  # the withdrawn place no longer counts
    with pytest.raises(NotFound) as unknown:
        await bus.handle(WithdrawPlace("loc-a", "place-nowhere"))
    assert unknown.value.field == "place_id"


async def test_an_offered_place_cannot_be_withdrawn(
    app: FastAPI, bus: ActingBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    [place] = await bus.handle(offer(1))
    await deliver(app.state.consumer, proposal(place_id=place.place_id))
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(WithdrawPlace("loc-a", place.place_id))
    assert refused.value.field == "place_id"
    assert "offered" in refused.value.message


async def test_free_places_at_an_unknown_location_are_not_found(bus: ActingBus) -> None:
    with pytest.raises(NotFound) as refused:
        await bus.handle(offer(1, location_id="loc-nowhere"))
    assert refused.value.field == "location_id"
