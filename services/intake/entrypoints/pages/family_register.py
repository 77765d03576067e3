"""Registering a request on a page: a family itself (anonymous or signed in) at
`/aanvraag`, or loket staff for a family at the desk at `/balie/aanvragen/nieuw`. One
form for both (`family/_request_form.html`); the same body, command and rules as
`POST /requests`. A "dichtst bij mijn postcode" button orders the locations by distance
without sending the request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from loketkit.auth import Caller, Role
from loketkit.errors import Invalid
from loketkit.web import FormPost, page_public, page_requires, redirect
from loketkit.web.forms import values_of
from services.intake.entrypoints.access import limit_anonymous, owner_for_registration
from services.intake.entrypoints.deps import ContextDep, IntakeContext
from services.intake.entrypoints.http import to_command
from services.intake.entrypoints.pages import PAGES
from services.intake.entrypoints.pages import family_form as form_of
from services.intake.entrypoints.pages.family_caller import SESSION_LINK
from services.intake.entrypoints.pages.family_reads import coordinates, open_locations
from services.intake.entrypoints.schemas import RequestCreate
from services.intake.handlers import Registered

router = APIRouter(include_in_schema=False)

Anyone = Annotated[Caller | None, page_public(
    "families register without an account; a signed-in parent registers their own")]
DeskStaff = Annotated[Caller, page_requires(Role.LOKET_STAFF)]
REGISTERED = "registered"  # session: the request just registered here, for its page
SEARCH = "zoek"
BY_DISTANCE = "afstand"


@dataclass(frozen=True)
class Desk:
    """Who fills in the form: the family itself, or loket staff for a family."""

    staff: bool


FAMILY = Desk(staff=False)
STAFF = Desk(staff=True)


async def show(http: HttpRequest, ctx: IntakeContext, desk: Desk, values: dict[str, Any],
               errors: dict[str, str], status_code: int = 200,
               searched: str | None = None) -> HTMLResponse:
    """The form with what was typed and what is wrong; the locations nearest first when
    the family asked (`searched`: the postcode), or asked before and it still holds."""
    postcode = str(values.get("parent_postcode", ""))
    if searched is None and values.get("sorteer") == BY_DISTANCE and not (
            form_of.search_problem(postcode, coordinates())):
        searched = postcode
    locations = await open_locations(ctx)
    return PAGES.render(
        http, "family/register.html", status_code=status_code, desk=desk,
        form_values=values, form_errors=errors, searched=searched,
        location_options=form_of.location_options(locations, searched, coordinates()),
        sibling_options=form_of.location_options(locations, None, coordinates()),
        municipality_options=form_of.municipality_options(ctx.settings.municipalities),
        day_grid=form_of.day_grid(), slots=form_of.choice_slots(values))


def first_values(ctx: IntakeContext) -> dict[str, Any]:
    only = sorted(ctx.settings.municipalities)
    return {"municipality_nis": only[0]} if len(only) == 1 else {}


async def submit(http: HttpRequest, ctx: IntakeContext, desk: Desk, caller: Caller | None,
                 form: Any) -> Response:
    owner = owner_for_registration(ctx, caller)  # 403 for a role that may not register
    values = values_of(form, lists=form_of.LISTS)
    if values.get("actie") == SEARCH:
        problem = form_of.search_problem(str(values.get("parent_postcode", "")), coordinates())
        if problem:
            return await show(http, ctx, desk, values, {"parent_postcode": problem}, 422)
        values["sorteer"] = BY_DISTANCE
        return await show(http, ctx, desk, values, {},
                          searched=str(values["parent_postcode"]))
    errors: dict[str, str] = {}
    body = None
    try:
        body = RequestCreate.model_validate(form_of.registration_body(values))
    except ValidationError as error:
        errors = form_of.invalid_fields(error)
    more = form_of.repeated_choices(values) | form_of.unsworn(values)
    errors |= {name: message for name, message in more.items() if name not in errors}
    if body is None or errors:
        return await show(http, ctx, desk, values, errors, 422)
    await limit_anonymous(http, caller)
    try:
        registered: Registered = await ctx.bus.handle(to_command(body, owner), actor=caller)
    except Invalid as error:
        field, message = form_of.domain_problem(error)
        return await show(http, ctx, desk, values, {field: message}, 422)
    return done(http, ctx, desk, caller, registered)


def done(http: HttpRequest, ctx: IntakeContext, desk: Desk, caller: Caller | None,
         registered: Registered) -> Response:
    request = registered.request
    has_email = request.contact.email is not None
    if desk.staff:
        link = f"{ctx.settings.intake_public_url}/mijn-aanvraag#{registered.personal_link}"
        flash = ("De aanvraag is geregistreerd. Het gezin krijgt zijn persoonlijke link "
                 "per e-mail." if has_email else
                 "De aanvraag is geregistreerd. Dit gezin heeft geen e-mailadres: geef het "
                 f"deze persoonlijke link (op papier of per sms): {link}")
        return redirect(http, f"/balie/aanvragen/{request.request_id}", flash=flash)
    anonymous = caller is None
    if anonymous:
        http.session[SESSION_LINK] = registered.personal_link
    http.session[REGISTERED] = {"request_id": request.request_id, "link": anonymous,
                                "email": has_email}
    return redirect(http, "/aanvraag/geregistreerd")


def _desk_of(caller: Caller | None) -> Desk:
    staff = caller is not None and caller.acts_as(Role.LOKET_STAFF) and not caller.acts_as(
        Role.PARENT)
    return STAFF if staff else FAMILY


@router.get("/aanvraag", response_class=HTMLResponse)
async def register_page(caller: Anyone, http: HttpRequest, ctx: ContextDep) -> HTMLResponse:
    return await show(http, ctx, FAMILY, first_values(ctx), {})


@router.post("/aanvraag")
async def register(caller: Anyone, form: FormPost, http: HttpRequest, ctx: ContextDep
                   ) -> Response:
    return await submit(http, ctx, _desk_of(caller), caller, form)


@router.get("/aanvraag/geregistreerd", response_class=HTMLResponse)
async def registered_page(caller: Anyone, http: HttpRequest, ctx: ContextDep) -> Response:
    found = http.session.get(REGISTERED)
    if not isinstance(found, dict):
        return RedirectResponse("/aanvraag", status_code=303)
    token = http.session.get(SESSION_LINK) if found.get("link") else None
    link = f"{ctx.settings.intake_public_url}/mijn-aanvraag#{token}" if token else None
    return PAGES.render(http, "family/registered.html", request_id=found["request_id"],
                        personal_link=link, has_email=bool(found.get("email")))


@router.get("/balie/aanvragen/nieuw", response_class=HTMLResponse)
async def desk_page(caller: DeskStaff, http: HttpRequest, ctx: ContextDep) -> HTMLResponse:
    owner_for_registration(ctx, caller)  # another area's staff register there, not here
    return await show(http, ctx, STAFF, first_values(ctx), {})


@router.post("/balie/aanvragen/nieuw")
async def desk_register(caller: DeskStaff, form: FormPost, http: HttpRequest,
                        ctx: ContextDep) -> Response:
    return await submit(http, ctx, STAFF, caller, form)
