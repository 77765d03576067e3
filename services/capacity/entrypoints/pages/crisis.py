"""Capacity's crisis pages: the coordinator of a service area registers a closure
confidentially, releases it once the parents were told, and follows every child it
reaches until re-placed, through the same commands and reads as the API. Another
area's closure is not found (404), as in the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from loketkit.auth import Caller, Role
from loketkit.dutch import date_in_dutch
from loketkit.errors import DomainError
from loketkit.web import FormPost, page_requires, redirect
from loketkit.web.forms import values_of
from services.capacity import views
from services.capacity.domain.commands import RegisterClosure, ReleaseClosure
from services.capacity.domain.model import Closure, ClosureStatus, Location
from services.capacity.entrypoints.access import area_closure, may_close
from services.capacity.entrypoints.deps import CapacityContext, ContextDep
from services.capacity.entrypoints.pages.page_views import closure_follow_up
from services.capacity.entrypoints.pages.page_words import CLOSURE_REASONS, parse, render
from services.capacity.entrypoints.schemas import ClosureCreate

router = APIRouter(include_in_schema=False)
CoordinatorPage = Annotated[Caller, page_requires(Role.COORDINATOR)]
HOME = "/crisis"
PICK_LOCATION = "Kies de locatie die sluit, uit de lijst."


def closure_path(closure_id: str) -> str:
    return f"{HOME}/sluitingen/{closure_id}"


async def area_locations(ctx: CapacityContext, caller: Caller) -> list[Location]:
    """The locations of the coordinator's own area, by name."""
    return [loc for loc in await views.locations(ctx.uow()) if may_close(caller, loc)]


@router.get(HOME, response_class=HTMLResponse)
async def closures_page(caller: CoordinatorPage, request: Request,
                        ctx: ContextDep) -> HTMLResponse:
    return await show_closures(request, ctx, caller)


async def show_closures(request: Request, ctx: CapacityContext, caller: Caller,
                        status_code: int = 200, values: dict[str, Any] | None = None,
                        errors: dict[str, str] | None = None) -> HTMLResponse:
    # No area in the token: no closures (None would mean every area's).
    found = await views.closures(ctx.uow(), caller.service_area) if caller.service_area else []
    follow_ups = [await closure_follow_up(ctx.uow(), closure) for closure in found]
    pending = {f.closure.location_id for f in follow_ups
               if f.closure.status is ClosureStatus.REGISTERED}
    closable = [loc for loc in await area_locations(ctx, caller)
                if not loc.closed and loc.location_id not in pending]
    return render(
        request, "crisis/closures.html", status_code, follow_ups=follow_ups,
        location_options=named(closable),
        reason_options=list(CLOSURE_REASONS.items()),
        form_values=values or {}, form_errors=errors or {},
    )


def named(locations: list[Location]) -> list[tuple[str, str]]:
    """(id, name) to choose from; a name two locations share gets its postcode and id."""
    names = [loc.name for loc in locations]
    return [(loc.location_id, loc.name if names.count(loc.name) == 1
             else f"{loc.name} ({loc.postcode}, {loc.location_id})") for loc in locations]


@router.post(HOME, response_model=None)
async def register_closure(caller: CoordinatorPage, form: FormPost, request: Request,
                           ctx: ContextDep) -> HTMLResponse | RedirectResponse:
    typed = values_of(form)
    posted = parse(form, ClosureCreate, dates=("effective_from", "expected_end"), values=typed)
    errors = dict(posted.errors)
    chosen = {loc.location_id: loc for loc in await area_locations(ctx, caller)
              if not loc.closed}
    location = chosen.get(typed.get("location_id", ""))
    if location is None:
        errors = {"location_id": PICK_LOCATION, **errors}
    if location is None or posted.body is None:
        return await show_closures(request, ctx, caller, 422, typed, errors)
    command = RegisterClosure(location_id=location.location_id, **posted.body.model_dump())
    try:
        closure: Closure = await ctx.bus.handle(command, actor=caller)
    except DomainError as error:
        problem = closure_problem(error)
        if problem is None:
            raise
        return await show_closures(request, ctx, caller, error.status_code, typed, problem)
    return redirect(request, closure_path(closure.closure_id),
                    flash=f"De sluiting van {location.name} is vertrouwelijk geregistreerd. Er "
                          "gaat nog niets naar buiten: geef ze vrij zodra de ouders ingelicht "
                          "zijn.")


def closure_problem(error: DomainError) -> dict[str, str] | None:
    """The domain's refusal of a closure, next to its field (None: not the form's)."""
    if error.field == "expected_end":
        return {"expected_end": "Het verwachte einde ligt vóór de sluitingsdatum."}
    if error.field == "location_id":  # closed meanwhile, or a closure already registered
        return {"location_id": "Voor deze locatie loopt al een sluiting, of ze is al "
                               "gesloten. Bekijk ze in de lijst hierboven."}
    return None


@router.get(HOME + "/sluitingen/{closure_id}", response_class=HTMLResponse)
async def closure_page(caller: CoordinatorPage, request: Request, ctx: ContextDep,
                       closure_id: str) -> HTMLResponse:
    closure = await area_closure(ctx, caller, closure_id)
    follow_up = await closure_follow_up(ctx.uow(), closure)
    return render(request, "crisis/closure.html", follow_up=follow_up, closure=closure,
                  location_name=follow_up.name_of(closure.location_id))


@router.post(HOME + "/sluitingen/{closure_id}/vrijgeven")
async def release_closure(caller: CoordinatorPage, form: FormPost, request: Request,
                          ctx: ContextDep, closure_id: str) -> RedirectResponse:
    await area_closure(ctx, caller, closure_id)
    released: Closure = await ctx.bus.handle(ReleaseClosure(closure_id=closure_id),
                                             actor=caller)
    return redirect(request, closure_path(closure_id),
                    flash=f"De sluiting is vrijgegeven: de locatie is dicht vanaf "
                          f"{date_in_dutch(released.effective_from)}. Elk gezin met een plaats of "
                          "aanbod via het loket krijgt een crisisaanvraag; volg de kinderen "
                          "hieronder op.")
