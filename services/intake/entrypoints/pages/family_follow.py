"""Following a request on a page: `/mijn-aanvraag` (a parent's list, or the family's
personal link opened), the status page, and the family's answers: accept or decline an
offer, confirm it still waits, withdraw. The same commands and access rules as the API
routes (`request_for` with `may_read` / `may_change`); each form posts, then 303 back to
the status page with a notice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, Response

from loketkit.auth import Caller, Role
from loketkit.errors import Conflict
from loketkit.web import FormPost, page_public, redirect
from services.intake import views
from services.intake.domain.commands import AnswerOffer, ConfirmRequest, WithdrawRequest
from services.intake.domain.model import OfferNotOpen, Request
from services.intake.entrypoints.access import may_change, request_for
from services.intake.entrypoints.deps import ContextDep, IntakeContext
from services.intake.entrypoints.pages import PAGES
from services.intake.entrypoints.pages.family_caller import (
    SESSION_LINK,
    family_of,
    holder_of,
    session_holder,
    token_from,
)
from services.intake.entrypoints.pages.family_reads import location_names
from services.intake.entrypoints.pages.family_status import present

router = APIRouter(include_in_schema=False)

FamilyPage = Annotated[Caller | None, page_public(
    "a family follows its own request: signed in as a parent, or with its personal link")]
HOME = "/mijn-aanvraag"
NO_LINK = "Open eerst de link uit je e-mail, of meld je aan."
LINK_MISSING = "Plak hier de link uit je e-mail, of de code die je van het loket kreeg."
LINK_INVALID = ("Deze link werkt niet (meer). Kopieer de hele link uit je e-mail, of vraag "
                "het loket om een nieuwe link.")
TOO_LATE = ("Dit aanbod kan je niet meer beantwoorden: het is al beantwoord of de termijn "
            "is voorbij.")
CLOSED = "Dit kan niet meer: je aanvraag loopt niet meer."


def status_path(request_id: str) -> str:
    return f"{HOME}/{request_id}"


async def changeable(http: HttpRequest, ctx: IntakeContext, caller: Caller | None,
                     request_id: str) -> tuple[Caller, Request] | None:
    """The family and its request, if this caller may change it; None when nobody
    signed in or opened a link (the page asks for one); 404 for another's request."""
    who = await family_of(http, caller, request_id)
    if who is None:
        return None
    return who, await request_for(ctx, who, request_id, may_change)


@router.get(HOME, response_class=HTMLResponse)
async def my_requests(caller: FamilyPage, http: HttpRequest, ctx: ContextDep) -> Response:
    if caller is not None and caller.acts_as(Role.PARENT):
        found = await views.worklist(ctx.uow(), without_email=False, has_open_offer=False,
                                     needs_loket=False, owner_subject=caller.subject)
        names, now = await location_names(ctx), ctx.clock()
        return PAGES.render(http, "family/requests.html",
                            found=[present(request, names, now) for request in found])
    holder = await session_holder(http)
    if holder is not None:
        return redirect(http, status_path(holder.request_id))
    return PAGES.render(http, "family/open_link.html", form_values={}, form_errors={})


@router.post(HOME)
async def open_link(caller: FamilyPage, form: FormPost, http: HttpRequest) -> Response:
    pasted = str(form.get("link") or "")
    token = token_from(pasted)
    holder = await holder_of(http, token) if token else None
    if holder is None:
        return PAGES.render(http, "family/open_link.html", status_code=422,
                            form_values={"link": pasted},
                            form_errors={"link": LINK_INVALID if token else LINK_MISSING})
    http.session[SESSION_LINK] = token
    return redirect(http, status_path(holder.request_id))


@router.get(HOME + "/{request_id}", response_class=HTMLResponse)
async def status_page(caller: FamilyPage, request_id: str, http: HttpRequest,
                      ctx: ContextDep) -> Response:
    who = await family_of(http, caller, request_id)
    if who is None:
        return redirect(http, HOME, flash=NO_LINK)
    request = await request_for(ctx, who, request_id)
    return PAGES.render(http, "family/status.html",
                        view=present(request, await location_names(ctx), ctx.clock()))


async def answer(http: HttpRequest, ctx: IntakeContext, caller: Caller | None,
                 request_id: str, match_id: str, accept: bool, keep_waiting: bool
                 ) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    who, request = found
    offer = request.offer(match_id)
    name = (await location_names(ctx)).get(offer.location_id, "") if offer else ""
    try:
        await ctx.bus.handle(AnswerOffer(request_id, match_id, accept=accept,
                                         keep_waiting_for_higher_choices=keep_waiting),
                             actor=who)
    except OfferNotOpen:
        return redirect(http, status_path(request_id), flash=TOO_LATE)
    if not accept:
        flash = f"Je weigerde de plaats in {name}. Je blijft wachten op je andere keuzes."
    else:
        flash = (f"Je aanvaardde de plaats in {name}. De opvang beslist nu over de opname; "
                 "je krijgt bericht.")
        if keep_waiting:
            flash += " Je blijft ook wachten op je hogere keuzes."
    return redirect(http, status_path(request_id), flash=flash)


@router.post(HOME + "/{request_id}/aanbod/{match_id}/aanvaarden")
async def accept_offer(caller: FamilyPage, form: FormPost, request_id: str, match_id: str,
                       http: HttpRequest, ctx: ContextDep) -> Response:
    keep_waiting = form.get("blijf_wachten") == "ja"
    return await answer(http, ctx, caller, request_id, match_id, True, keep_waiting)


@router.post(HOME + "/{request_id}/aanbod/{match_id}/weigeren")
async def decline_offer(caller: FamilyPage, form: FormPost, request_id: str, match_id: str,
                        http: HttpRequest, ctx: ContextDep) -> Response:
    return await answer(http, ctx, caller, request_id, match_id, False, False)


@router.post(HOME + "/{request_id}/bevestigen")
async def confirm(caller: FamilyPage, form: FormPost, request_id: str, http: HttpRequest,
                  ctx: ContextDep) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    try:
        await ctx.bus.handle(ConfirmRequest(request_id), actor=found[0])
    except Conflict:
        return redirect(http, status_path(request_id), flash=CLOSED)
    return redirect(http, status_path(request_id),
                    flash="Bedankt. Je aanvraag blijft lopen: we zoeken verder een plaats.")


@router.get(HOME + "/{request_id}/intrekken", response_class=HTMLResponse)
async def withdraw_page(caller: FamilyPage, request_id: str, http: HttpRequest,
                        ctx: ContextDep) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    return PAGES.render(http, "family/withdraw.html",
                        view=present(found[1], await location_names(ctx), ctx.clock()))


@router.post(HOME + "/{request_id}/intrekken")
async def withdraw(caller: FamilyPage, form: FormPost, request_id: str, http: HttpRequest,
                   ctx: ContextDep) -> Response:
    found = await changeable(http, ctx, caller, request_id)
    if found is None:
        return redirect(http, HOME, flash=NO_LINK)
    try:
        await ctx.bus.handle(WithdrawRequest(request_id), actor=found[0])
    except Conflict:
        return redirect(http, status_path(request_id), flash=CLOSED)
    return redirect(http, status_path(request_id),
                    flash="Je aanvraag is ingetrokken. We zoeken geen plaats meer.")
