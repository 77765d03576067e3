"""Matching's HTTP API: a glance at the queue of one service area, for coordinators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from services.matching.adapters.orm import PlaceRecord, WaitingRequestRecord

router = APIRouter(tags=["queue"])


class QueuePublic(BaseModel):
    service_area: str
    requests: dict[str, int]
    places: dict[str, int]


@router.get("/service-areas/{service_area}/queue", response_model=QueuePublic,
            summary="Requests and places per status in one service area")
async def queue(service_area: str, request: Request) -> QueuePublic:
    async with request.app.state.session_factory() as session:
        requests = await session.execute(
            select(WaitingRequestRecord.status, func.count())
            .where(WaitingRequestRecord.service_area == service_area)
            .group_by(WaitingRequestRecord.status))
        places = await session.execute(
            select(PlaceRecord.status, func.count())
            .where(PlaceRecord.service_area == service_area)
            .group_by(PlaceRecord.status))
        return QueuePublic(service_area=service_area,
                           requests={status: n for status, n in requests.all()},
                           places={status: n for status, n in places.all()})
