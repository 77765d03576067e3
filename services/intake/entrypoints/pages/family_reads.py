"""What the family pages read besides the request: the locations and the postcode
coordinates intake already holds (no calls to other services)."""

from __future__ import annotations

from services.intake import views
from services.intake.adapters.postcodes import postcode_coordinates
from services.intake.domain.locations import Coordinates, Location
from services.intake.entrypoints.deps import IntakeContext


async def open_locations(ctx: IntakeContext) -> list[Location]:
    """The locations of this loket's area a family can choose now."""
    area = ctx.settings.service_area
    return [location for location in await views.locations(ctx.uow())
            if location.service_area == area and not location.closed]


async def location_names(ctx: IntakeContext) -> dict[str, str]:
    """Every known location's name (a closed one still names a family's old choice)."""
    return {location.location_id: location.name for location in await views.locations(ctx.uow())}


def coordinates() -> Coordinates:
    """The postcode coordinates intake ranks distances by (the file it ships)."""
    return postcode_coordinates()
