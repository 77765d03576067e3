"""Matching's HTTP API, for coordinators: the queue of one service area and its worklist.
The area's offer settings come from `loketkit.area_settings` (see bootstrap)."""

from __future__ import annotations

from fastapi import APIRouter

from loketkit.area_settings import ServiceAreaPath
from services.matching import views
from services.matching.entrypoints.deps import ContextDep
from services.matching.entrypoints.schemas import QueuePublic, WorklistPublic

router = APIRouter(tags=["queue"])


@router.get("/service-areas/{service_area}/queue", response_model=QueuePublic,
            summary="Requests and places per status in one service area")
async def queue(service_area: ServiceAreaPath, ctx: ContextDep) -> QueuePublic:
    found = await views.queue(ctx.uow(), service_area)
    return QueuePublic.model_validate(found, from_attributes=True)


@router.get("/service-areas/{service_area}/worklist", response_model=WorklistPublic,
            summary="Offers organisers have not answered in time, and urgent requests "
            "without an offer")
async def worklist(service_area: ServiceAreaPath, ctx: ContextDep) -> WorklistPublic:
    found = await views.worklist(ctx.uow(), service_area, ctx.clock())
    return WorklistPublic.model_validate(found, from_attributes=True)
