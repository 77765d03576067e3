"""Who may see and change which location in capacity.

- An organiser (a person, or its system through client credentials) runs its own
  locations: capacity, free places, enrolments, answers to offers.
- The loket's people of the location's service area (staff, coordinator, loket
  administrator) read them; only the coordinator registers and releases closures.
Another tenant's location, offer, enrolment or closure answers 404 with the message
of a missing one, so its existence is never revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from loketkit.auth import Caller, Role, requires
from loketkit.errors import NotFound
from services.capacity import views
from services.capacity.domain.model import Closure, Location
from services.capacity.entrypoints.deps import CapacityContext

AREA_READERS = (Role.LOKET_STAFF, Role.COORDINATOR, Role.LOKET_ADMIN)

Runner = Annotated[Caller, requires(Role.ORGANISER)]
Reader = Annotated[Caller, requires(Role.ORGANISER, *AREA_READERS)]
Registrar = Annotated[Caller, requires(Role.ORGANISER, Role.COORDINATOR)]
Coordinator = Annotated[Caller, requires(Role.COORDINATOR)]


LocationRule = Callable[[Caller, Location], bool]


def may_read(caller: Caller, location: Location) -> bool:
    return (caller.owns_location_of(location.organiser_id)
            or caller.in_area(location.service_area, *AREA_READERS))


def may_run(caller: Caller, location: Location) -> bool:
    return caller.owns_location_of(location.organiser_id)


def may_close(caller: Caller, location: Location) -> bool:
    return caller.in_area(location.service_area, Role.COORDINATOR)


async def location_for(
    ctx: CapacityContext, caller: Caller, location_id: str, may: LocationRule = may_read,
    field: str = "location_id", missing: str = views.MISSING_LOCATION,
) -> Location:
    """The location, if `may` lets the caller at it; else not found (named by `field`)."""
    location = await views.location_by_id(ctx.uow(), location_id)
    if not may(caller, location):
        raise NotFound(field, missing)
    return location


async def own_offer(ctx: CapacityContext, caller: Caller, match_id: str) -> None:
    offer = await views.offer_by_id(ctx.uow(), match_id)
    await location_for(ctx, caller, offer.location_id, may_run, "match_id", views.MISSING_OFFER)


async def own_enrolment(ctx: CapacityContext, caller: Caller, enrolment_id: str) -> None:
    enrolment = await views.enrolment_by_id(ctx.uow(), enrolment_id)
    await location_for(ctx, caller, enrolment.location_id, may_run, "enrolment_id",
                       views.MISSING_ENROLMENT)


async def area_closure(ctx: CapacityContext, caller: Caller, closure_id: str) -> Closure:
    closure = await views.closure_by_id(ctx.uow(), closure_id)
    if not caller.in_area(closure.service_area, Role.COORDINATOR):
        raise NotFound("closure_id", views.MISSING_CLOSURE)
    return closure


def visible_locations(caller: Caller, found: list[Location]) -> list[Location]:
    return [location for location in found if may_read(caller, location)]
