"""Matching's HTTP API: a glance at the queue of one service area, for coordinators."""

from __future__ import annotations

from fastapi import APIRouter

from services.matching import views
from services.matching.entrypoints.deps import ContextDep
from services.matching.entrypoints.schemas import QueuePublic

router = APIRouter(tags=["queue"])


@router.get("/service-areas/{service_area}/queue", response_model=QueuePublic,
            summary="Requests and places per status in one service area")
async def queue(service_area: str, ctx: ContextDep) -> QueuePublic:
    found = await views.queue(ctx.uow(), service_area)
    return QueuePublic.model_validate(found, from_attributes=True)
