"""Capacity's use cases through the command bus, in memory: what gets published,
and what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.events import CrisisClosure, LocationRegistered, PlaceFreed
from loketkit.bus import CommandBus
from loketkit.errors import NotFound
from services.capacity.domain.commands import CloseLocation, OfferFreePlaces, RegisterLocation
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    ClosureReason,
    Location,
)
from tests.unit.capacity.conftest import NEXT_MONTH, NOW
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork


def register(
    location_id: str | None = "loc-a", capacity: int = 14, nis: str = "13008"
) -> RegisterLocation:
    return RegisterLocation(
        location_id=location_id, name="Kinderdagverblijf De Bolleboos", municipality_nis=nis,
        postcode="2440", capacity=capacity, subsidy_tier="income_related",
    )


def offer(count: int, location_id: str = "loc-a") -> OfferFreePlaces:
    return OfferFreePlaces(location_id=location_id, available_from=NEXT_MONTH, count=count)


def close(
    location_id: str = "loc-a", reason: ClosureReason = "licence_suspended"
) -> CloseLocation:
    return CloseLocation(location_id=location_id, reason=reason, effective_from=date(2026, 12, 1))


async def test_registering_a_location_publishes_location_registered(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    location: Location = await bus.handle(register())
    assert (location.location_id, location.service_area) == ("loc-a", "kempen-gml")
    [event] = uow.published_data()
    assert isinstance(event, LocationRegistered)
    assert (event.location_id, event.municipality_nis, event.capacity) == ("loc-a", "13008", 14)
    assert event.registered_at == NOW
    assert uow.published[0].source == "/loket/capacity"


async def test_a_location_without_an_id_gets_a_new_one(bus: CommandBus) -> None:
    location: Location = await bus.handle(register(location_id=None))
    assert location.location_id == "loc-1"


async def test_registering_the_same_location_twice_is_a_conflict(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(register())
    assert refused.value.field == "location_id"
    assert len(uow.published) == 1


async def test_a_location_outside_the_service_area_is_refused_and_not_published(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    with pytest.raises(CapacityRuleError) as refused:
        await bus.handle(register(nis="11002"))
    assert refused.value.field == "municipality_nis"
    assert uow.published == []


async def test_free_places_publish_one_place_freed_per_place(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    places = await bus.handle(offer(3))
    freed = [event for event in uow.published_data() if isinstance(event, PlaceFreed)]
    assert [event.place_id for event in freed] == [place.place_id for place in places]
    assert [event.place_id for event in freed] == ["place-1", "place-2", "place-3"]
    assert {(e.min_age_months, e.max_age_months, e.available_from) for e in freed} == {
        (0, 36, NEXT_MONTH)
    }
    assert {event.freed_at for event in freed} == {NOW}


async def test_free_places_cannot_exceed_the_capacity(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register(capacity=2))
    await bus.handle(offer(2))
    published = len(uow.published)
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(offer(1))
    assert refused.value.field == "count"
    assert len(uow.published) == published


async def test_free_places_at_an_unknown_location_are_not_found(bus: CommandBus) -> None:
    with pytest.raises(NotFound) as refused:
        await bus.handle(offer(1, location_id="loc-nowhere"))
    assert refused.value.field == "location_id"


async def test_closing_publishes_crisis_closure_and_cancels_open_places(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    places = await bus.handle(offer(2))
    closure = await bus.handle(close())
    closing = uow.published_data()[-1]
    assert isinstance(closing, CrisisClosure)
    assert (closing.closure_id, closing.reason) == (closure.closure_id, "licence_suspended")
    assert closure.closure_id == "closure-3"
    assert closing.announced_at == NOW
    assert list(closure.cancelled_place_ids) == sorted(place.place_id for place in places)
    stored = await uow.locations.get("loc-a")
    assert stored is not None
    assert (stored.closed, stored.open_free_places) == (True, 0)


async def test_a_closed_location_refuses_free_places_and_a_second_closure(
    bus: CommandBus, uow: FakeCapacityUnitOfWork
) -> None:
    await bus.handle(register())
    await bus.handle(close(reason="bankruptcy"))
    published = len(uow.published)
    with pytest.raises(CapacityConflict) as refused:
        await bus.handle(offer(1))
    assert refused.value.field == "location_id"
    with pytest.raises(CapacityConflict):
        await bus.handle(close(reason="bankruptcy"))
    assert len(uow.published) == published


async def test_closing_an_unknown_location_is_not_found(bus: CommandBus) -> None:
    with pytest.raises(NotFound) as refused:
        await bus.handle(close(location_id="loc-nowhere"))
    assert refused.value.field == "location_id"
