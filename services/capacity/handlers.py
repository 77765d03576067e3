"""Capacity's use cases: one function per command or event, over a unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts import CloudEvent
from contracts.events import CrisisClosure, LocationRegistered, PlaceFreed
from loketkit.consumer import RejectedEvent
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Closure,
    ClosureReason,
    FreePlace,
    Location,
    PlaceOffer,
    check_new_location,
)

# Handlers take the service's unit of work (SQL in production, in-memory in tests).
UoW = Any
# An organiser's event has no `count`: a full location is the location's fault.
INBOUND_FIELDS = {"count": "location_id"}


def place_freed(location: Location, place: FreePlace, freed_at: datetime) -> PlaceFreed:
    return PlaceFreed(
        service_area=location.service_area,
        place_id=place.place_id,
        location_id=location.location_id,
        municipality_nis=location.municipality_nis,
        available_from=place.available_from,
        min_age_months=place.min_age_months,
        max_age_months=place.max_age_months,
        freed_at=freed_at,
    )


async def known_location(uow: UoW, location_id: str) -> Location:
    location: Location | None = await uow.locations.get(location_id)
    if location is None:
        raise LookupError(location_id)
    return location


async def register_location(
    location: Location, uow: UoW, municipalities: frozenset[str]
) -> Location:
    check_new_location(location, municipalities)
    now = datetime.now(UTC)
    async with uow:
        if not await uow.locations.add(location, registered_at=now):
            raise CapacityConflict("location_id", "this location is already registered")
        uow.emit(
            LocationRegistered(
                service_area=location.service_area,
                location_id=location.location_id,
                name=location.name,
                municipality_nis=location.municipality_nis,
                postcode=location.postcode,
                capacity=location.capacity,
                subsidy_tier=location.subsidy_tier,
                registered_at=now,
            )
        )
        await uow.commit()
    return location


async def offer_free_places(
    location_id: str, offer: PlaceOffer, count: int, uow: UoW
) -> list[FreePlace]:
    """Record `count` free places and announce each one, so each can be matched."""
    now = datetime.now(UTC)
    async with uow:
        location = await known_location(uow, location_id)
        place_ids = [f"place-{uuid.uuid4()}" for _ in range(count)]
        places = location.offer(place_ids, offer, "api", now.date())
        await uow.places.add_all(places)
        for place in places:
            uow.emit(place_freed(location, place, now))
        await uow.commit()
    return places


async def close_location(
    location_id: str, reason: ClosureReason, effective_from: date, uow: UoW
) -> tuple[Closure, list[str]]:
    """Close a location; its open places are cancelled. Returns the closure and their ids."""
    async with uow:
        location = await known_location(uow, location_id)
        closure = location.close(
            f"closure-{uuid.uuid4()}", reason, effective_from, datetime.now(UTC)
        )
        await uow.locations.save(location)
        await uow.closures.add(closure)
        cancelled: list[str] = await uow.places.cancel_open_at(location_id)
        uow.emit(
            CrisisClosure(
                service_area=location.service_area,
                closure_id=closure.closure_id,
                location_id=location.location_id,
                municipality_nis=location.municipality_nis,
                reason=closure.reason,
                effective_from=closure.effective_from,
                announced_at=closure.announced_at,
            )
        )
        await uow.commit()
    return closure, cancelled


async def on_inbound_place_freed(event: CloudEvent, data: PlaceFreed, uow: UoW) -> None:
    """An organiser's free place: checked against the location, then published as ours."""
    if await uow.places.exists(data.place_id):
        return  # announced before: that announcement already counted and was published
    location: Location | None = await uow.locations.get(data.location_id)
    if location is None:
        raise RejectedEvent("field 'data.location_id': unknown location")
    offer = PlaceOffer(data.available_from, data.min_age_months, data.max_age_months)
    try:
        location.check_origin(data.service_area, data.municipality_nis)
        places = location.offer([data.place_id], offer, "organiser", datetime.now(UTC).date())
    except CapacityRuleError as error:
        field = INBOUND_FIELDS.get(error.field, error.field)
        raise RejectedEvent(f"field 'data.{field}': {error}") from None
    await uow.places.add_all(places)
    uow.emit(data, caused_by=event)
