"""The organiser's page in intake: the contact of a family that accepted an offer at one
of its locations and consented to share it, decided exactly as the API's
GET /offers/{match_id}/contact does; anything else is not found. The capacity
service's organiser pages link here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse

from loketkit.auth import Caller, Role
from loketkit.errors import NotFound
from loketkit.web import page_requires
from services.intake import views
from services.intake.entrypoints.deps import ContextDep
from services.intake.entrypoints.pages import PAGES

router = APIRouter(include_in_schema=False)

OrganiserPage = Annotated[Caller, page_requires(Role.ORGANISER)]


@router.get("/organisator/contact/{match_id}", response_class=HTMLResponse)
async def contact_page(caller: OrganiserPage, http: HttpRequest, ctx: ContextDep,
                       match_id: str) -> HTMLResponse:
    request = await views.contact_for_offer(ctx.uow(), match_id)
    offer = request.offer(match_id)
    location = await views.location(ctx.uow(), offer.location_id) if offer else None
    if offer is None or location is None or not caller.owns_location_of(location.organiser_id):
        raise NotFound("match_id", "no contact to share for this offer")
    return PAGES.render(http, "staff/contact.html", heading="Contact van het gezin",
                        contact=request.contact, child=request.child, offer=offer,
                        location=location)
