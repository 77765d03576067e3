"""Capacity's use cases: one function per command or event, over a unit of work.

Handlers make ids and timestamps and raise domain errors; the maps at the
bottom are the one place that says which handler answers which message.
"""

from __future__ import annotations

from datetime import datetime

from contracts import CloudEvent
from contracts.events import CrisisClosure, LocationRegistered, PlaceFreed
from loketkit.bus import AnyHandler
from loketkit.consumer import RejectedEvent
from loketkit.errors import NotFound
from loketkit.ids import Clock, IdFactory
from services.capacity.domain.commands import CloseLocation, OfferFreePlaces, RegisterLocation
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Closure,
    FreePlace,
    Location,
    PlaceOffer,
    PlaceSource,
    check_new_location,
)
from services.capacity.ports import CapacityUnitOfWork
from services.capacity.settings import CapacitySettings

# An organiser's event has no `count`: a full location is the location's fault.
INBOUND_FIELDS = {"count": "location_id"}


async def register_location(
    command: RegisterLocation,
    uow: CapacityUnitOfWork,
    settings: CapacitySettings,
    clock: Clock,
    new_id: IdFactory,
) -> Location:
    location = Location(
        location_id=command.location_id or new_id("loc"),
        service_area=settings.service_area,
        name=command.name,
        municipality_nis=command.municipality_nis,
        postcode=command.postcode,
        capacity=command.capacity,
        subsidy_tier=command.subsidy_tier,
        min_age_months=command.min_age_months,
        max_age_months=command.max_age_months,
    )
    check_new_location(location, settings.municipalities)
    now = clock()
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
    command: OfferFreePlaces, uow: CapacityUnitOfWork, clock: Clock, new_id: IdFactory
) -> list[FreePlace]:
    """Record `count` free places and announce each one, so each can be matched."""
    offer = PlaceOffer(
        available_from=command.available_from,
        min_age_months=command.min_age_months,
        max_age_months=command.max_age_months,
    )
    now = clock()
    async with uow:
        location = await known_location(uow, command.location_id)
        place_ids = [new_id("place") for _ in range(command.count)]
        places = location.offer(place_ids, offer, PlaceSource.API, now.date())
        await uow.places.add_all(places, recorded_at=now)
        for place in places:
            uow.emit(place_freed(location, place, now))
        await uow.commit()
    return places


async def close_location(
    command: CloseLocation, uow: CapacityUnitOfWork, clock: Clock, new_id: IdFactory
) -> Closure:
    """Close a location; its open places are cancelled and listed in the closure."""
    async with uow:
        location = await known_location(uow, command.location_id)
        closure = location.close(
            new_id("closure"), command.reason, command.effective_from, clock()
        )
        await uow.locations.save(location)
        await uow.closures.add(closure)
        cancelled = await uow.places.cancel_open_at(location.location_id)
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
    return closure.model_copy(update={"cancelled_place_ids": tuple(cancelled)})


async def on_inbound_place_freed(
    event: CloudEvent, data: PlaceFreed, uow: CapacityUnitOfWork, clock: Clock
) -> None:
    """An organiser's free place: checked against the location, then published as ours."""
    if await uow.places.exists(data.place_id):
        return  # announced before: that announcement already counted and was published
    location = await uow.locations.get(data.location_id)
    if location is None:
        raise RejectedEvent("field 'data.location_id': unknown location")
    offer = PlaceOffer(
        available_from=data.available_from,
        min_age_months=data.min_age_months,
        max_age_months=data.max_age_months,
    )
    now = clock()
    try:
        location.check_origin(data.service_area, data.municipality_nis)
        places = location.offer([data.place_id], offer, PlaceSource.ORGANISER, now.date())
    except (CapacityRuleError, CapacityConflict) as error:
        field = INBOUND_FIELDS.get(error.field, error.field)
        raise RejectedEvent(f"field 'data.{field}': {error}") from None
    await uow.places.add_all(places, recorded_at=now)
    uow.emit(data, caused_by=event)


async def known_location(uow: CapacityUnitOfWork, location_id: str) -> Location:
    location = await uow.locations.get(location_id)
    if location is None:
        raise NotFound("location_id", "no location with this id")
    return location


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


COMMAND_HANDLERS: dict[type, AnyHandler] = {
    RegisterLocation: register_location,
    OfferFreePlaces: offer_free_places,
    CloseLocation: close_location,
}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    PlaceFreed: on_inbound_place_freed,  # organisers' systems, on loket.capacity.inbound.v1
}
