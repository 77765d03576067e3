"""Capacity's organiser pages: an organiser keeps its own locations (occupancy, free
places) and answers the offers the loket makes for them, through the same commands
and reads as the API. Another organiser's location or offer is not found (404), as in
the API. Families' contact details stay in intake: an accepted offer links there."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from loketkit.auth import Caller, Role
from loketkit.dutch import date_in_dutch
from loketkit.errors import DomainError
from loketkit.web import FormPost, page_requires, redirect
from services.capacity import views
from services.capacity.domain.commands import (
    ConfirmPlacement,
    OfferFreePlaces,
    RefuseMatch,
    WithdrawPlace,
)
from services.capacity.domain.model import Location, Offer
from services.capacity.entrypoints.access import location_for, may_run
from services.capacity.entrypoints.deps import CapacityContext, ContextDep
from services.capacity.entrypoints.pages.organiser_forms import (
    NEW_PLACE,
    announce_form,
    announce_problem,
    confirm_form,
    confirm_problem,
    confirm_values,
    refuse_form,
)
from services.capacity.entrypoints.pages.page_views import location_board
from services.capacity.entrypoints.pages.page_words import (
    DAY_PART_NAMES,
    DAY_PART_OPTIONS,
    REFUSAL_REASONS,
    render,
    today,
)

router = APIRouter(include_in_schema=False)
OrganiserPage = Annotated[Caller, page_requires(Role.ORGANISER)]
HOME = "/organisator"


def location_path(location_id: str) -> str:
    return f"{HOME}/locaties/{location_id}"


@router.get(HOME, response_class=HTMLResponse)
async def overview(caller: OrganiserPage, request: Request, ctx: ContextDep) -> HTMLResponse:
    """Each of the organiser's own locations: licence, children, free places, offers."""
    day = today(ctx)
    own = [loc for loc in await views.locations(ctx.uow()) if may_run(caller, loc)]
    boards = [await location_board(ctx.uow(), loc.location_id, day) for loc in own]
    return render(request, "organiser/overview.html", boards=boards, day=day)


@router.get(HOME + "/locaties/{location_id}", response_class=HTMLResponse)
async def location_page(caller: OrganiserPage, request: Request, ctx: ContextDep,
                        location_id: str) -> HTMLResponse:
    await location_for(ctx, caller, location_id, may_run)
    return await show_location(request, ctx, location_id)


async def show_location(request: Request, ctx: CapacityContext, location_id: str,
                        status_code: int = 200, values: dict[str, Any] | None = None,
                        errors: dict[str, str] | None = None) -> HTMLResponse:
    board = await location_board(ctx.uow(), location_id, today(ctx))
    return render(request, "organiser/location.html", status_code, board=board,
                  day_part_options=DAY_PART_OPTIONS, form_values=values or NEW_PLACE,
                  form_errors=errors or {})


@router.post(HOME + "/locaties/{location_id}/vrije-plaatsen", response_model=None)
async def announce_places(caller: OrganiserPage, form: FormPost, request: Request,
                          ctx: ContextDep, location_id: str
                          ) -> HTMLResponse | RedirectResponse:
    location = await location_for(ctx, caller, location_id, may_run)
    posted = announce_form(form)
    if posted.body is None:
        return await show_location(request, ctx, location_id, 422, posted.values,
                                   posted.errors)
    body = posted.body
    command = OfferFreePlaces(
        location_id=location_id, available_from=body.available_from, count=body.count,
        day_parts=tuple(body.day_parts), min_age_months=body.min_age_months,
        max_age_months=body.max_age_months,
    )
    try:
        places = await ctx.bus.handle(command, actor=caller)
    except DomainError as error:
        errors = announce_problem(error, location, body)
        if errors is None:
            raise
        return await show_location(request, ctx, location_id, error.status_code,
                                   posted.values, errors)
    said = ("Je vrije plaats is gemeld" if len(places) == 1
            else f"Je {len(places)} vrije plaatsen zijn gemeld")
    return redirect(request, location_path(location_id),
                    flash=f"{said}, vrij vanaf {date_in_dutch(body.available_from)}. "
                          "Het loket zoekt er een kind voor.")


@router.post(HOME + "/locaties/{location_id}/vrije-plaatsen/{place_id}/intrekken")
async def withdraw_place(caller: OrganiserPage, form: FormPost, request: Request,
                         ctx: ContextDep, location_id: str, place_id: str
                         ) -> RedirectResponse:
    await location_for(ctx, caller, location_id, may_run)
    await ctx.bus.handle(WithdrawPlace(location_id=location_id, place_id=place_id),
                         actor=caller)
    return redirect(request, location_path(location_id),
                    flash="De vrije plaats is ingetrokken: het loket biedt ze niet meer aan.")


async def own_offer(ctx: CapacityContext, caller: Caller, match_id: str
                    ) -> tuple[Offer, Location]:
    """The offer and its location, if the caller runs it; else not found."""
    offer = await views.offer_by_id(ctx.uow(), match_id)
    location = await location_for(ctx, caller, offer.location_id, may_run, "match_id",
                                  views.MISSING_OFFER)
    return offer, location


def show_offer(request: Request, offer: Offer, location: Location, status_code: int = 200,
               values: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None) -> HTMLResponse:
    return render(
        request, "organiser/offer.html", status_code, offer=offer, location=location,
        day_part_options=[(part, DAY_PART_NAMES[part]) for part in offer.day_parts],
        reason_options=list(REFUSAL_REASONS.items()),
        form_values=confirm_values(offer) | (values or {}), form_errors=errors or {},
    )


@router.get(HOME + "/aanbiedingen/{match_id}", response_class=HTMLResponse)
async def offer_page(caller: OrganiserPage, request: Request, ctx: ContextDep,
                     match_id: str) -> HTMLResponse:
    offer, location = await own_offer(ctx, caller, match_id)
    return show_offer(request, offer, location)


@router.post(HOME + "/aanbiedingen/{match_id}/bevestigen", response_model=None)
async def confirm_offer(caller: OrganiserPage, form: FormPost, request: Request,
                        ctx: ContextDep, match_id: str) -> HTMLResponse | RedirectResponse:
    offer, location = await own_offer(ctx, caller, match_id)
    posted = confirm_form(form)
    if posted.body is None:
        return show_offer(request, offer, location, 422, posted.values, posted.errors)
    body = posted.body
    command = ConfirmPlacement(
        match_id=match_id, start_date=body.start_date,
        day_parts=None if body.day_parts is None else tuple(body.day_parts),
    )
    try:
        enrolment = await ctx.bus.handle(command, actor=caller)
    except DomainError as error:
        errors = confirm_problem(error)
        if errors is None:
            raise
        return show_offer(request, offer, location, error.status_code, posted.values, errors)
    return redirect(request, location_path(location.location_id),
                    flash=f"Je bevestigde de plaats: het kind begint op "
                          f"{date_in_dutch(enrolment.start_date)}. Het gezin en het loket "
                          "krijgen bericht.")


@router.post(HOME + "/aanbiedingen/{match_id}/weigeren", response_model=None)
async def refuse_offer(caller: OrganiserPage, form: FormPost, request: Request,
                       ctx: ContextDep, match_id: str) -> HTMLResponse | RedirectResponse:
    offer, location = await own_offer(ctx, caller, match_id)
    posted = refuse_form(form)
    if posted.body is None:
        return show_offer(request, offer, location, 422, posted.values, posted.errors)
    await ctx.bus.handle(RefuseMatch(match_id=match_id, reason=posted.body.reason),
                         actor=caller)
    return redirect(request, location_path(location.location_id),
                    flash="Je weigerde het aanbod. Het loket krijgt je reden en zoekt verder.")
