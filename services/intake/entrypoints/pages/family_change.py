"""Changing a waiting request on a page: start date, day-parts, ranked choices, a
distance and a partial fit, as `PATCH /requests/{id}` does (`RequestChange`,
`UpdateRequest`). The locations come nearest first from the family's own postcode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from loketkit.errors import Conflict, Invalid
from loketkit.web import FormPost, redirect
from loketkit.web.forms import values_of
from services.intake.domain.commands import UpdateRequest
from services.intake.domain.model import Request, Status
from services.intake.entrypoints.deps import ContextDep, IntakeContext
from services.intake.entrypoints.pages import PAGES
from services.intake.entrypoints.pages import family_form as form_of
from services.intake.entrypoints.pages.family_follow import (
    CLOSED,
    HOME,
    NO_LINK,
    FamilyPage,
    changeable,
    status_path,
)
from services.intake.entrypoints.pages.family_reads import coordinates, open_locations
from services.intake.entrypoints.schemas import RequestChange

router = APIRouter(include_in_schema=False)
CHANGE = HOME + "/{request_id}/wijzigen"


async def show(http: HttpRequest, ctx: IntakeContext, request: Request,
               values: dict[str, Any], errors: dict[str, str], status_code: int = 200
               ) -> HTMLResponse:
    locations = await open_locations(ctx)
    return PAGES.render(
        http, "family/change.html", status_code=status_code, req=request,
        form_values=values, form_errors=errors,
        location_options=form_of.location_options(locations, request.contact.postcode,
                                                  coordinates()),
        day_grid=form_of.day_grid(), slots=form_of.choice_slots(values))


@router.get(CHANGE, response_class=HTMLResponse)
async def change_page(caller: FamilyPage, request_id: str, http: HttpRequest,
                      ctx: ContextDep) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    request = found[1]
    if request.status is not Status.WAITING:
        return redirect(http, status_path(request_id), flash=CLOSED)
    return await show(http, ctx, request, form_of.change_values(request), {})


@router.post(CHANGE)
async def change(caller: FamilyPage, form: FormPost, request_id: str, http: HttpRequest,
                 ctx: ContextDep) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    who, request = found
    values = values_of(form, lists=form_of.LISTS)
    errors: dict[str, str] = {}
    if not values.get("desired_start_date"):
        errors["desired_start_date"] = form_of.MESSAGES["desired_start_date"]
    body = None
    try:
        body = RequestChange.model_validate(form_of.change_body(values))
    except ValidationError as error:
        errors |= {name: message for name, message in form_of.invalid_fields(error).items()
                   if name not in errors}
    errors |= {name: message for name, message in form_of.repeated_choices(values).items()
               if name not in errors}
    if body is None or errors:
        return await show(http, ctx, request, values, errors, 422)
    try:
        await ctx.bus.handle(UpdateRequest(
            request_id, body.desired_start_date, tuple(body.day_parts or ()) or None,
            body.accepts_partial_fit, tuple(body.preferred_location_ids or ()),
            body.max_distance_km), actor=who)
    except Conflict:
        return redirect(http, status_path(request_id), flash=CLOSED)
    except Invalid as error:
        field, message = form_of.domain_problem(error)
        return await show(http, ctx, request, values, {field: message}, 422)
    return redirect(http, status_path(request_id), flash="Je wijzigingen zijn bewaard.")
