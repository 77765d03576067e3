"""Matching's HTTP API, for coordinators: the queue of one service area and its worklist.
The area's offer settings come from `loketkit.area_settings` (see bootstrap)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from loketkit.area_settings import ServiceAreaPath
from loketkit.auth import Caller, Role, require_own_area, requires
from services.matching import views
from services.matching.entrypoints.deps import ContextDep
from services.matching.entrypoints.schemas import QueuePublic, WorklistPublic

router = APIRouter(tags=["queue"])

# The loket's people of that area follow its queue; another area's is not found.
AreaStaff = Annotated[Caller, requires(Role.LOKET_STAFF, Role.COORDINATOR)]


@router.get("/service-areas/{service_area}/queue", response_model=QueuePublic,
            summary="Requests and places per status in one service area")
async def queue(service_area: ServiceAreaPath, ctx: ContextDep, caller: AreaStaff
                ) -> QueuePublic:
    require_own_area(caller, service_area)
    found = await views.queue(ctx.uow(), service_area)
    return QueuePublic.model_validate(found, from_attributes=True)


@router.get("/service-areas/{service_area}/worklist", response_model=WorklistPublic,
            summary="Offers organisers have not answered in time, and urgent requests "
            "without an offer")
async def worklist(service_area: ServiceAreaPath, ctx: ContextDep, caller: AreaStaff
                   ) -> WorklistPublic:
    require_own_area(caller, service_area)
    found = await views.worklist(ctx.uow(), service_area, ctx.clock())
    return WorklistPublic.model_validate(found, from_attributes=True)
