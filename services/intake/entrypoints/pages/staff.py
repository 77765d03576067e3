"""Intake's pages for loket staff, in Dutch: the worklist (`/balie`), searching the
area's requests, and a request's page with the staff's forms: assess vulnerability and
decide urgency, answer an offer for a family, hand over a new personal link. (The
organiser's contact page lives in `staff_organiser`; registering for a family is the
family pages' `/balie/aanvragen/nieuw`.)

The pages call the same commands and views as the API (audited through the bus, with
the caller as actor) and decide access the same way: staff and coordinator of the
request's own area; another area's request is not found.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loketkit.auth import Caller, Role
from loketkit.errors import NotFound
from loketkit.web import FormPost, page_requires, redirect
from loketkit.web.forms import values_of
from services.intake import views
from services.intake.domain.commands import HandOverPersonalLink
from services.intake.domain.model import OfferNotOpen, Request
from services.intake.entrypoints.access import LinkHolder, may_assess, request_for
from services.intake.entrypoints.deps import ContextDep, IntakeContext
from services.intake.entrypoints.pages import PAGES, crisis_follow, staff_organiser
from services.intake.entrypoints.pages import staff_forms as forms
from services.intake.entrypoints.pages import staff_present as present
from services.intake.entrypoints.pages.family_reads import location_names

router = APIRouter(include_in_schema=False)
router.include_router(staff_organiser.router)
router.include_router(crisis_follow.router)

AreaPage = Annotated[Caller, page_requires(Role.LOKET_STAFF, Role.COORDINATOR)]
StaffPage = Annotated[Caller, page_requires(Role.LOKET_STAFF)]
# The personal link just handed over, for the request's page to show once.
LINK_SHOWN = "staff_personal_link"
WORDS = {"status": present.STATUS, "choice": present.CHOICE, "offer": present.OFFER,
         "urgency_status": present.URGENCY_STATUS, "urgency": present.URGENCY,
         "reasons": present.REASONS, "fit": present.FIT, "answered_by": present.ANSWERED_BY,
         "actor": present.ACTOR,
         "priority": present.PRIORITY, "audit": present.AUDIT,
         "characteristics": forms.CHARACTERISTICS, "decisions": forms.DECISIONS,
         "answers": forms.ANSWERS}


def detail_path(request_id: str) -> str:
    return f"/balie/aanvragen/{quote(request_id, safe='')}"


def in_area(ctx: IntakeContext, caller: Caller) -> bool:
    return caller.in_area(ctx.settings.service_area, Role.LOKET_STAFF, Role.COORDINATOR)


def serves(caller: Caller, request: Request) -> bool:
    """Acts for the family: loket staff of the request's own area."""
    return (not isinstance(caller, LinkHolder)
            and caller.in_area(request.service_area, Role.LOKET_STAFF))


async def area_requests(ctx: IntakeContext, caller: Caller) -> list[Request]:
    """The open requests of the caller's area (none for another area's staff)."""
    if not in_area(ctx, caller):
        return []
    return [request for request in await views.open_requests(ctx.uow())
            if request.service_area == ctx.settings.service_area]


@router.get("/balie", response_class=HTMLResponse)
async def worklist_page(caller: AreaPage, http: HttpRequest, ctx: ContextDep) -> HTMLResponse:
    requests = await area_requests(ctx, caller)
    return PAGES.render(http, "staff/worklist.html", heading="Werklijst van het loket",
                        sections=present.worklist(requests, ctx.clock()),
                        names=await location_names(ctx), words=WORDS,
                        other_area=not in_area(ctx, caller),
                        registers=caller.acts_as(Role.LOKET_STAFF),
                        cut_off=len(requests) >= views.WORKLIST_LIMIT)


@router.get("/balie/aanvragen", response_class=HTMLResponse)
async def search_page(caller: AreaPage, http: HttpRequest, ctx: ContextDep, q: str = ""
                      ) -> HTMLResponse:
    query = " ".join(q.split())[:200]
    requests = await area_requests(ctx, caller)
    found = present.search(requests, query)
    if in_area(ctx, caller) and query and " " not in query and not any(
            request.request_id == query for request in found):
        try:  # a closed request is not in the open list: found by its exact id
            exact = await request_for(ctx, caller, query, may_assess)
            found.insert(0, exact)
        except NotFound:
            pass
    return PAGES.render(http, "staff/search.html", heading="Aanvragen zoeken", query=query,
                        found=found[:present.RECENT], total=len(found), words=WORDS,
                        shown=present.RECENT, place_of=present.place_of,
                        other_area=not in_area(ctx, caller),
                        registers=caller.acts_as(Role.LOKET_STAFF),
                        cut_off=len(requests) >= views.WORKLIST_LIMIT)


async def render_detail(
    http: HttpRequest, ctx: IntakeContext, caller: Caller, request: Request,
    status_code: int = 200, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, personal_link: str | None = None,
) -> HTMLResponse:
    """The request's page, with its forms (as posted, with errors, when one failed).
    The form's values and errors go in as `form_values`/`form_errors`: Pages.render
    sets `values` and `errors` itself."""
    child = request.child
    return PAGES.render(
        http, "staff/detail.html", status_code=status_code,
        heading=f"Aanvraag van {child.first_name} {child.last_name}", req=request,
        names=await location_names(ctx), place=present.place_of(request.contact.postcode),
        choices=request.choice_states(), audit=await views.audit(ctx.uow(), request.request_id),
        words=WORDS, form_values=forms.assessment_values(request) | (values or {}),
        form_errors=errors or {}, personal_link=personal_link,
        may_serve=serves(caller, request), may_assess=may_assess(caller, request),
        answer_field=forms.answer_field, fields=(forms.TRAITS, forms.DECISION, forms.REASON))


@router.get("/balie/aanvragen/{request_id}", response_class=HTMLResponse)
async def detail_page(caller: AreaPage, http: HttpRequest, ctx: ContextDep, request_id: str
                      ) -> HTMLResponse:
    request = await request_for(ctx, caller, request_id, may_assess)
    shown = http.session.pop(LINK_SHOWN, None)
    link = (shown.get("link") if isinstance(shown, dict)
            and shown.get("request_id") == request.request_id else None)
    return await render_detail(http, ctx, caller, request, personal_link=link)


@router.post("/balie/aanvragen/{request_id}/beoordeling", response_model=None)
async def assess_page(caller: AreaPage, form: FormPost, http: HttpRequest, ctx: ContextDep,
                      request_id: str) -> Response:
    request = await request_for(ctx, caller, request_id, may_assess)
    values = values_of(form, lists=[forms.TRAITS])
    command, errors = forms.assessment_command(
        values, request.request_id, forms.staff_member(caller.name, caller.subject))
    if command is None:
        return await render_detail(http, ctx, caller, request, 422, values, errors)
    assessed: Request = await ctx.bus.handle(command, actor=caller)
    outcome = {"granted": " Dringendheid toegekend.", "refused": " Dringendheid geweigerd."}
    vulnerable = " Het gezin is kwetsbaar." if assessed.vulnerable else ""
    return redirect(http, detail_path(request.request_id), flash="Beoordeling bewaard."
                    + vulnerable + outcome.get(command.urgency or "", ""))


@router.post("/balie/aanvragen/{request_id}/aanbod/{match_id}", response_model=None)
async def answer_page(caller: StaffPage, form: FormPost, http: HttpRequest, ctx: ContextDep,
                      request_id: str, match_id: str) -> Response:
    request = await request_for(ctx, caller, request_id, serves)
    if request.offer(match_id) is None:
        raise NotFound("match_id", "no offer with this id for this request")
    values = values_of(form)
    command, errors = forms.answer_command(
        values, request.request_id, match_id, forms.staff_member(caller.name, caller.subject))
    if command is None:
        return await render_detail(http, ctx, caller, request, 422, values, errors)
    try:
        await ctx.bus.handle(command, actor=caller)
    except OfferNotOpen:
        now = await views.request_by_id(ctx.uow(), request.request_id)
        return await render_detail(http, ctx, caller, now, 409, values,
                                   {forms.answer_field(match_id): forms.NOT_OPEN})
    done = ("Aanbod geweigerd voor het gezin." if not command.accept else
            "Aanbod aanvaard voor het gezin; het blijft wachten op de hoger gerangschikte "
            "keuzes." if command.keep_waiting_for_higher_choices else
            "Aanbod aanvaard voor het gezin.")
    return redirect(http, detail_path(request.request_id), flash=done)


@router.post("/balie/aanvragen/{request_id}/persoonlijke-link", response_model=None)
async def personal_link_page(caller: StaffPage, form: FormPost, http: HttpRequest,
                             ctx: ContextDep, request_id: str) -> RedirectResponse:
    request = await request_for(ctx, caller, request_id, serves)
    token = await ctx.bus.handle(HandOverPersonalLink(request.request_id), actor=caller)
    http.session[LINK_SHOWN] = {
        "request_id": request.request_id,
        "link": f"{ctx.settings.intake_public_url}/mijn-aanvraag#{token}"}
    mailed = " Het gezin kreeg hem ook per e-mail." if request.contact.email else ""
    return redirect(http, detail_path(request.request_id),
                    flash="Nieuwe persoonlijke link gemaakt: eerdere links werken niet meer."
                    + mailed)
