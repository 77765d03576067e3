"""Intake's HTTP API: register, follow and withdraw requests; list the offer.

Thin routes: body -> command -> bus -> public schema. Errors map to responses
in loketkit.http; the unit of work wakes the outbox relay after each commit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from contracts.events.base import ID_LENGTH, ID_PATTERN
from loketkit.idempotency import IdempotencyDep
from services.intake import views
from services.intake.domain.commands import ErasePersonalData, SubmitRequest, WithdrawRequest
from services.intake.domain.model import Child, Contact, Priority, Request
from services.intake.entrypoints.deps import ContextDep
from services.intake.entrypoints.schemas import LocationPublic, RequestCreate, RequestPublic

router = APIRouter(tags=["requests"])

RequestId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)]


def to_public(request: Request) -> RequestPublic:
    return RequestPublic.model_validate(request, from_attributes=True)


def to_command(body: RequestCreate) -> SubmitRequest:
    child, parent = body.child, body.parent
    return SubmitRequest(
        child=Child(child.first_name, child.last_name, child.birth_date, child.national_number),
        contact=Contact(parent.name, parent.email, parent.phone, parent.street, parent.postcode),
        municipality_nis=body.municipality_nis,
        neighbourhood_code=body.neighbourhood_code,
        desired_start_date=body.desired_start_date,
        days_per_week=body.days_per_week,
        preferred_location_ids=tuple(body.preferred_location_ids),
        priority=Priority(**body.priority.model_dump() | {
            "sibling_location_ids": tuple(body.priority.sibling_location_ids)}),
        urgency=body.urgency,
    )


@router.post("/requests", status_code=201, response_model=RequestPublic,
             summary="Register a childcare request (once, for several locations)")
async def create_request(
    body: RequestCreate, ctx: ContextDep, once: IdempotencyDep
) -> JSONResponse:
    command = to_command(body)
    return await once.run(body, lambda uow: ctx.bus.handle(command, uow), to_public)


@router.get("/requests/{request_id}", response_model=RequestPublic,
            summary="Follow a request: submitted, proposed, withdrawn or replaced")
async def get_request(request_id: RequestId, ctx: ContextDep) -> RequestPublic:
    return to_public(await views.request_by_id(ctx.uow(), request_id))


@router.post("/requests/{request_id}/withdraw", response_model=RequestPublic,
             summary="Withdraw a request")
async def withdraw(request_id: RequestId, ctx: ContextDep) -> RequestPublic:
    return to_public(await ctx.bus.handle(WithdrawRequest(request_id)))


@router.delete("/requests/{request_id}/personal-data", response_model=RequestPublic,
               summary="Erase the family's personal data (and withdraw the request if open)")
async def erase(request_id: RequestId, ctx: ContextDep) -> RequestPublic:
    return to_public(await ctx.bus.handle(ErasePersonalData(request_id)))


@router.get("/locations", response_model=list[LocationPublic], tags=["offer"],
            summary="Locations families can choose")
async def list_locations(ctx: ContextDep) -> list[LocationPublic]:
    return [LocationPublic.model_validate(location, from_attributes=True)
            for location in await views.locations(ctx.uow())]
