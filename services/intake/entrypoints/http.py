"""Intake's HTTP API: register, follow and withdraw requests; list the offer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from loketkit.http import app_context, problem
from services.intake import handlers
from services.intake.bootstrap import IntakeContext
from services.intake.domain.model import (
    Child,
    Contact,
    Priority,
    RequestRuleError,
)
from services.intake.domain.model import Request as ChildcareRequest
from services.intake.entrypoints.schemas import LocationPublic, RequestCreate, RequestPublic

router = APIRouter(tags=["requests"])


ContextDep = Annotated[IntakeContext, Depends(app_context)]


def to_public(request: ChildcareRequest) -> RequestPublic:
    return RequestPublic(
        request_id=request.request_id,
        status=request.status.value,
        urgency=request.urgency,
        municipality_nis=request.municipality_nis,
        desired_start_date=request.desired_start_date,
        preferred_location_ids=list(request.preferred_location_ids),
        submitted_at=request.submitted_at,
        replaces_request_id=request.replaces_request_id,
        replaced_by_request_id=request.replaced_by_request_id,
        erased_at=request.erased_at,
        match_id=request.match_id,
        proposed_location_id=request.proposed_location_id,
        proposed_place_id=request.proposed_place_id,
    )


@router.post("/requests", status_code=201, response_model=RequestPublic,
             summary="Register a childcare request (once, for several locations)")
async def create_request(body: RequestCreate, ctx: ContextDep) -> RequestPublic | JSONResponse:
    request = ChildcareRequest(
        request_id=f"req-{uuid.uuid4()}",
        service_area=ctx.settings.service_area,
        child=Child(body.child.first_name, body.child.last_name, body.child.birth_date,
                    body.child.national_number),
        contact=Contact(body.parent.name, body.parent.email, body.parent.phone,
                        body.parent.street, body.parent.postcode),
        municipality_nis=body.municipality_nis,
        neighbourhood_code=body.neighbourhood_code,
        desired_start_date=body.desired_start_date,
        days_per_week=body.days_per_week,
        preferred_location_ids=tuple(dict.fromkeys(body.preferred_location_ids)),
        priority=Priority(**body.priority.model_dump() | {
            "sibling_location_ids": tuple(body.priority.sibling_location_ids)}),
        urgency=body.urgency,
        submitted_at=datetime.now(UTC),
    )
    try:
        await handlers.submit_request(
            request, ctx.uow(), ctx.settings.municipalities, ctx.child_ref(request.child)
        )
    except RequestRuleError as error:
        return problem(422, str(error), error.field)
    ctx.events_committed()
    return to_public(request)


@router.get("/requests/{request_id}", response_model=RequestPublic,
            summary="Follow a request: submitted, proposed, withdrawn or replaced")
async def get_request(request_id: str, ctx: ContextDep) -> RequestPublic | JSONResponse:
    async with ctx.uow() as uow:
        request = await uow.requests.get(request_id)
    if request is None:
        return problem(404, f"no request {request_id}", "request_id")
    return to_public(request)


@router.post("/requests/{request_id}/withdraw", response_model=RequestPublic,
             summary="Withdraw a request")
async def withdraw(request_id: str, ctx: ContextDep) -> RequestPublic | JSONResponse:
    try:
        request = await handlers.withdraw_request(request_id, ctx.uow())
    except LookupError:
        return problem(404, f"no request {request_id}", "request_id")
    except RequestRuleError as error:
        return problem(409, str(error), error.field)
    ctx.events_committed()
    return to_public(request)


@router.delete("/requests/{request_id}/personal-data", response_model=RequestPublic,
               summary="Erase the family's personal data (and withdraw the request if open)")
async def erase(request_id: str, ctx: ContextDep) -> RequestPublic | JSONResponse:
    try:
        request = await handlers.erase_personal_data(request_id, ctx.uow())
    except LookupError:
        return problem(404, f"no request {request_id}", "request_id")
    ctx.events_committed()
    return to_public(request)


@router.get("/locations", response_model=list[LocationPublic], tags=["offer"],
            summary="Locations families can choose")
async def list_locations(ctx: ContextDep) -> list[LocationPublic]:
    async with ctx.uow() as uow:
        return [LocationPublic.model_validate(loc, from_attributes=True)
                for loc in await uow.locations.all()]
