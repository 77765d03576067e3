"""Intake's HTTP API: register, follow, change, confirm and withdraw requests; answer
offers; the organiser's contact for an accepted offer; import a waiting list.

Thin routes: body -> command -> bus -> public schema. Errors map to responses
in loketkit.http; the unit of work wakes the outbox relay after each commit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from contracts.events.base import ID_LENGTH, ID_PATTERN
from loketkit.auth import NotAllowed
from loketkit.errors import Invalid, NotFound
from loketkit.idempotency import IdempotencyDep
from services.intake import views
from services.intake.domain.commands import (
    AnswerOffer,
    AssessRequest,
    ConfirmRequest,
    ErasePersonalData,
    HandOverPersonalLink,
    Keep,
    LinkSiblings,
    RevokePersonalLinks,
    SubmitRequest,
    UpdateRequest,
    WithdrawRequest,
)
from services.intake.domain.model import (
    Child,
    Contact,
    ImportBatch,
    Priority,
    Request,
    UrgencyStatus,
    Vulnerability,
)
from services.intake.entrypoints.access import (
    AreaStaff,
    Assessor,
    Directory,
    Family,
    Organiser,
    Reader,
    Registrant,
    Staff,
    limit_anonymous,
    may_assess,
    may_change,
    owner_for_registration,
    request_for,
    worklist_scope,
)
from services.intake.entrypoints.deps import ContextDep
from services.intake.entrypoints.imports import parse_waiting_list
from services.intake.entrypoints.schemas import (
    Acceptance,
    Assessment,
    AuditPublic,
    ChoicePublic,
    ContactPublic,
    ImportCreate,
    ImportPublic,
    LocationPublic,
    OfferPublic,
    PersonalLinkPublic,
    PlacementPublic,
    Refusal,
    RegisteredPublic,
    RequestChange,
    RequestCreate,
    RequestPublic,
    RevokedPublic,
    SiblingLink,
)
from services.intake.handlers import Registered

router = APIRouter(tags=["requests"])

RequestId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)]
MatchId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)]
IMPORTED_BY = Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")


def to_public(request: Request) -> RequestPublic:
    placement = request.placement()
    derived = {
        "has_email": request.contact.email is not None,
        "choices": [ChoicePublic(location_id=location_id, state=state,
                                 by_distance=location_id in request.distance_location_ids)
                    for location_id, state in request.choice_states().items()],
        "offers": [OfferPublic.model_validate(offer, from_attributes=True)
                   for offer in request.offers],
        "placement": PlacementPublic.model_validate(placement, from_attributes=True)
        if placement else None,
    }
    own = {name: getattr(request, name) for name in RequestPublic.model_fields
           if name not in derived}
    return RequestPublic.model_validate(own | derived)


def import_body(raw: bytes, content_type: str, imported_by: str | None) -> ImportCreate:
    """The CSV as text/csv (with `?imported_by=`) or as JSON {csv, imported_by}."""
    try:
        if content_type.startswith("text/csv"):
            return ImportCreate.model_validate({"csv": raw.decode("utf-8"),
                                                "imported_by": imported_by})
        return ImportCreate.model_validate_json(raw or b"{}")
    except UnicodeDecodeError:
        raise Invalid("csv", "must be UTF-8 text") from None
    except ValidationError as error:
        first = error.errors()[0]
        raise Invalid(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from None


def to_command(body: RequestCreate, owner_subject: str | None = None) -> SubmitRequest:
    child, parent = body.child, body.parent
    return SubmitRequest(
        child=Child(child.first_name, child.last_name, child.birth_date, child.national_number),
        contact=Contact(parent.name, parent.email, parent.phone, parent.street, parent.postcode),
        municipality_nis=body.municipality_nis,
        neighbourhood_code=body.neighbourhood_code,
        desired_start_date=body.desired_start_date,
        day_parts=tuple(body.day_parts),
        preferred_location_ids=tuple(body.preferred_location_ids),
        max_distance_km=body.max_distance_km,
        priority=Priority(**body.priority.model_dump() | {
            "sibling_location_ids": tuple(body.priority.sibling_location_ids)}),
        urgency_reason=body.urgency_reason,
        sworn_statement=body.sworn_statement,
        accepts_partial_fit=body.accepts_partial_fit,
        share_contact_with_organiser=body.share_contact_with_organiser,
        owner_subject=owner_subject,
    )


@router.post("/requests", status_code=201, response_model=RegisteredPublic,
             summary="Register a childcare request (once, for several locations)")
async def create_request(
    body: RequestCreate, ctx: ContextDep, once: IdempotencyDep, caller: Registrant,
    http: HttpRequest,
) -> JSONResponse:
    command = to_command(body, owner_for_registration(ctx, caller))
    await limit_anonymous(http, caller)

    def present(registered: Registered) -> RegisteredPublic:
        return RegisteredPublic(**to_public(registered.request).model_dump(),
                                personal_link=registered.personal_link)

    return await once.run(body, lambda uow: ctx.bus.handle(command, uow, actor=caller), present)


@router.get("/requests", response_model=list[RequestPublic],
            summary="The loket's worklists: open requests, filtered")
async def list_requests(
    ctx: ContextDep, caller: Reader,
    without_email: Annotated[bool, Query(description="Families staff must serve")] = False,
    has_open_offer: Annotated[bool, Query(description="Holding an unanswered offer")] = False,
    needs_loket: Annotated[bool, Query(
        description="Children a crisis closure left without an open location")] = False,
    urgency_status: Annotated[UrgencyStatus | None, Query(
        description="asked: families asking for urgency, for staff to decide")] = None,
) -> list[RequestPublic]:
    allowed, owner = worklist_scope(ctx, caller)
    if not allowed:
        return []  # another area's staff: nothing of this area's
    found = await views.worklist(ctx.uow(), without_email=without_email,
                                 has_open_offer=has_open_offer, needs_loket=needs_loket,
                                 owner_subject=owner, urgency_status=urgency_status)
    return [to_public(request) for request in found]


@router.get("/requests/{request_id}", response_model=RequestPublic,
            summary="Follow a request: its offers, its placement, the state per choice")
async def get_request(request_id: RequestId, ctx: ContextDep, caller: Reader) -> RequestPublic:
    return to_public(await request_for(ctx, caller, request_id))


@router.patch("/requests/{request_id}", response_model=RequestPublic,
              summary="Change start date, day-parts or choices while waiting")
async def update(
    request_id: RequestId, body: RequestChange, ctx: ContextDep, caller: Family
) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    return to_public(await ctx.bus.handle(UpdateRequest(
        request_id, body.desired_start_date,
        tuple(body.day_parts) if body.day_parts else None, body.accepts_partial_fit,
        None if body.preferred_location_ids is None else tuple(body.preferred_location_ids),
        body.max_distance_km if "max_distance_km" in body.model_fields_set
        else Keep.KEEP), actor=caller))


@router.put("/requests/{request_id}/assessment", response_model=RequestPublic,
            summary="Loket staff assess vulnerability and grant or refuse urgency (audited)")
async def assess(
    request_id: RequestId, body: Assessment, ctx: ContextDep, caller: Assessor
) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_assess)
    urgency = body.urgency
    return to_public(await ctx.bus.handle(AssessRequest(
        request_id, Vulnerability(**body.vulnerability.model_dump()),
        urgency=urgency.decision if urgency else None,
        urgency_reason=urgency.reason if urgency else None,
        staff_member=(caller.name or caller.subject)[:200]), actor=caller))


@router.post("/requests/{request_id}/confirm", response_model=RequestPublic,
             summary="The family confirms it still waits")
async def confirm(request_id: RequestId, ctx: ContextDep, caller: Family) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    return to_public(await ctx.bus.handle(ConfirmRequest(request_id), actor=caller))


@router.post("/requests/{request_id}/siblings", response_model=RequestPublic,
             summary="Link a brother's or sister's request (both ways)")
async def link_sibling(
    request_id: RequestId, body: SiblingLink, ctx: ContextDep, caller: Staff
) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    await request_for(ctx, caller, body.request_id, may_change)
    return to_public(await ctx.bus.handle(LinkSiblings(request_id, body.request_id), actor=caller))


@router.post("/requests/{request_id}/offers/{match_id}/accept", response_model=RequestPublic,
             tags=["offers"], summary="Accept an offer (the organiser has the final say)")
async def accept(
    request_id: RequestId, match_id: MatchId, ctx: ContextDep, caller: Family,
    body: Annotated[Acceptance | None, Body()] = None,
) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    body = body or Acceptance()
    return to_public(await ctx.bus.handle(AnswerOffer(
        request_id, match_id, accept=True,
        keep_waiting_for_higher_choices=body.keep_waiting_for_higher_choices,
        answered_by=body.answered_by, staff_member=body.staff_member), actor=caller))


@router.post("/requests/{request_id}/offers/{match_id}/decline", response_model=RequestPublic,
             tags=["offers"], summary="Decline an offer (this location leaves the list)")
async def decline(
    request_id: RequestId, match_id: MatchId, ctx: ContextDep, caller: Family,
    body: Annotated[Refusal | None, Body()] = None,
) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    body = body or Refusal()
    return to_public(await ctx.bus.handle(AnswerOffer(
        request_id, match_id, accept=False, answered_by=body.answered_by,
        staff_member=body.staff_member), actor=caller))


@router.get("/requests/{request_id}/audit", response_model=list[AuditPublic],
            summary="Who answered what for this request, when")
async def audit(request_id: RequestId, ctx: ContextDep, caller: AreaStaff) -> list[AuditPublic]:
    await request_for(ctx, caller, request_id)
    return [AuditPublic.model_validate(entry, from_attributes=True)
            for entry in await views.audit(ctx.uow(), request_id)]


@router.post("/requests/{request_id}/withdraw", response_model=RequestPublic,
             summary="Withdraw a request")
async def withdraw(request_id: RequestId, ctx: ContextDep, caller: Family) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    return to_public(await ctx.bus.handle(WithdrawRequest(request_id), actor=caller))


@router.delete("/requests/{request_id}/personal-data", response_model=RequestPublic,
               summary="Erase the family's personal data (with its crisis copies)")
async def erase(request_id: RequestId, ctx: ContextDep, caller: Family) -> RequestPublic:
    await request_for(ctx, caller, request_id, may_change)
    return to_public(await ctx.bus.handle(ErasePersonalData(request_id), actor=caller))


@router.post("/requests/{request_id}/personal-link", status_code=201,
             response_model=PersonalLinkPublic, tags=["personal links"],
             summary="Hand the family a new personal link (earlier ones stop working)")
async def hand_over_link(request_id: RequestId, ctx: ContextDep, caller: Staff
                         ) -> PersonalLinkPublic:
    await request_for(ctx, caller, request_id, may_change)
    token = await ctx.bus.handle(HandOverPersonalLink(request_id), actor=caller)
    return PersonalLinkPublic(request_id=request_id, personal_link=token)


@router.delete("/requests/{request_id}/personal-link", response_model=RevokedPublic,
               tags=["personal links"],
               summary="Stop every personal link of the request (lost, or shared by mistake)")
async def revoke_links(request_id: RequestId, ctx: ContextDep, caller: Family) -> RevokedPublic:
    await request_for(ctx, caller, request_id, may_change)
    revoked = await ctx.bus.handle(RevokePersonalLinks(request_id), actor=caller)
    return RevokedPublic(request_id=request_id, revoked=revoked)


@router.get("/offers/{match_id}/contact", response_model=ContactPublic, tags=["offers"],
            summary="The family's contact, for the organiser of an accepted offer "
            "(only with the family's consent; 404 otherwise)")
async def contact(match_id: MatchId, ctx: ContextDep, caller: Organiser) -> ContactPublic:
    request = await views.contact_for_offer(ctx.uow(), match_id)
    offer = request.offer(match_id)
    location = await views.location(ctx.uow(), offer.location_id) if offer else None
    if location is None or not caller.owns_location_of(location.organiser_id):
        raise NotFound("match_id", "no contact to share for this offer")
    return ContactPublic(
        parent_name=request.contact.parent_name, email=request.contact.email,
        phone=request.contact.phone, child_first_name=request.child.first_name,
        child_birth_date=request.child.birth_date)


@router.post("/imports", status_code=201, response_model=ImportPublic, tags=["imports"],
             summary="Import a waiting list (CSV, all rows or none), keeping original dates",
             openapi_extra={"requestBody": {"content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/json": {"schema": ImportCreate.model_json_schema()}}}})
async def import_waiting_list(
    http: HttpRequest, ctx: ContextDep, once: IdempotencyDep, caller: Staff,
    imported_by: Annotated[str | None, IMPORTED_BY] = None,
) -> JSONResponse:
    if caller.service_area != ctx.settings.service_area:
        raise NotAllowed("authorization", "you import for another service area")
    body = import_body(await http.body(), http.headers.get("content-type", ""), imported_by)
    command = parse_waiting_list(body.csv, body.imported_by)

    def present(batch: ImportBatch) -> ImportPublic:
        return ImportPublic.model_validate(batch, from_attributes=True)

    return await once.run(body, lambda uow: ctx.bus.handle(command, uow, actor=caller), present)


@router.get("/locations", response_model=list[LocationPublic], tags=["offer"],
            summary="Locations families can choose")
async def list_locations(ctx: ContextDep, caller: Directory) -> list[LocationPublic]:
    return [LocationPublic.model_validate(location, from_attributes=True)
            for location in await views.locations(ctx.uow())]
