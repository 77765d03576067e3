"""Capacity's use cases, in memory: what gets published, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.events import CrisisClosure, LocationRegistered, PlaceFreed
from services.capacity import handlers
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Location,
    PlaceOffer,
)
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

AREA = "kempen-gml"
AREA_MUNICIPALITIES = frozenset({"13008", "13053", "13021"})
NEXT_MONTH = datetime.now(UTC).date() + timedelta(days=30)


def location(location_id: str = "loc-a", capacity: int = 14, nis: str = "13008") -> Location:
    return Location(
        location_id=location_id, service_area=AREA, name="Kinderdagverblijf De Bolleboos",
        municipality_nis=nis, postcode="2440", capacity=capacity, subsidy_tier="income_related",
    )


async def registered(uow: FakeCapacityUnitOfWork, capacity: int = 14) -> Location:
    return await handlers.register_location(location(capacity=capacity), uow, AREA_MUNICIPALITIES)


async def test_registering_a_location_publishes_location_registered() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow)
    [event] = uow.published_data()
    assert isinstance(event, LocationRegistered)
    assert (event.location_id, event.municipality_nis, event.capacity) == ("loc-a", "13008", 14)
    assert uow.published[0].source == "/loket/capacity"


async def test_registering_the_same_location_twice_is_a_conflict() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow)
    with pytest.raises(CapacityConflict) as refused:
        await registered(uow)
    assert refused.value.field == "location_id"
    assert len(uow.published) == 1


async def test_a_location_outside_the_service_area_is_refused_and_not_published() -> None:
    uow = FakeCapacityUnitOfWork()
    with pytest.raises(CapacityRuleError) as refused:
        await handlers.register_location(location(nis="11002"), uow, AREA_MUNICIPALITIES)
    assert refused.value.field == "municipality_nis"
    assert uow.published == []


async def test_free_places_publish_one_place_freed_per_place() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow)
    places = await handlers.offer_free_places("loc-a", PlaceOffer(NEXT_MONTH), 3, uow)
    freed = [event for event in uow.published_data() if isinstance(event, PlaceFreed)]
    assert [event.place_id for event in freed] == [place.place_id for place in places]
    assert len(set(event.place_id for event in freed)) == 3
    assert all(event.place_id.startswith("place-") for event in freed)
    assert {(e.min_age_months, e.max_age_months, e.available_from) for e in freed} == {
        (0, 36, NEXT_MONTH)
    }


async def test_free_places_cannot_exceed_the_capacity() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow, capacity=2)
    await handlers.offer_free_places("loc-a", PlaceOffer(NEXT_MONTH), 2, uow)
    published = len(uow.published)
    with pytest.raises(CapacityConflict) as refused:
        await handlers.offer_free_places("loc-a", PlaceOffer(NEXT_MONTH), 1, uow)
    assert refused.value.field == "count"
    assert len(uow.published) == published


async def test_free_places_at_an_unknown_location_are_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        await handlers.offer_free_places(
            "loc-nowhere", PlaceOffer(NEXT_MONTH), 1, FakeCapacityUnitOfWork()
        )


async def test_closing_publishes_crisis_closure_and_cancels_open_places() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow)
    places = await handlers.offer_free_places("loc-a", PlaceOffer(NEXT_MONTH), 2, uow)
    closure, cancelled = await handlers.close_location(
        "loc-a", "licence_suspended", date(2026, 12, 1), uow
    )
    closing = uow.published_data()[-1]
    assert isinstance(closing, CrisisClosure)
    assert (closing.closure_id, closing.reason) == (closure.closure_id, "licence_suspended")
    assert cancelled == sorted(place.place_id for place in places)
    stored = await uow.locations.get("loc-a")
    assert stored is not None
    assert (stored.closed, stored.open_free_places) == (True, 0)


async def test_a_closed_location_refuses_free_places_and_a_second_closure() -> None:
    uow = FakeCapacityUnitOfWork()
    await registered(uow)
    await handlers.close_location("loc-a", "bankruptcy", date(2026, 12, 1), uow)
    published = len(uow.published)
    with pytest.raises(CapacityConflict) as refused:
        await handlers.offer_free_places("loc-a", PlaceOffer(NEXT_MONTH), 1, uow)
    assert refused.value.field == "location_id"
    with pytest.raises(CapacityConflict):
        await handlers.close_location("loc-a", "bankruptcy", date(2026, 12, 1), uow)
    assert len(uow.published) == published
