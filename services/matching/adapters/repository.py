"""Matching's repositories over SQL, mapped to the domain's models.

Records and domain models have the same fields, so each side validates the other
(`model_validate(..., from_attributes=True)`) instead of copying field by field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.matching.adapters.orm import (
    ClosedLocationRecord,
    MatchRecord,
    PlaceRecord,
    RequestLocationRecord,
    WaitingRequestRecord,
)
from services.matching.domain.model import (
    FreePlace,
    Match,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    shift_months,
)


class SqlRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> WaitingRequest | None:
        record = await self._session.get(WaitingRequestRecord, request_id, with_for_update=True)
        return WaitingRequest.model_validate(record, from_attributes=True) if record else None

    async def add(self, request: WaitingRequest) -> None:
        self._session.add(WaitingRequestRecord.model_validate(request, from_attributes=True))
        await self._session.flush()  # the candidate rows below refer to it
        waiting = request.status is RequestStatus.WAITING
        self._session.add_all(
            RequestLocationRecord(request_id=request.request_id, location_id=location_id,
                                  birth_month=request.birth_month, waiting=waiting)
            for location_id in request.preferred_location_ids
        )

    async def set_status(self, request_id: str, status: RequestStatus) -> None:
        await self._session.execute(
            update(WaitingRequestRecord)
            .where(col(WaitingRequestRecord.request_id) == request_id).values(status=status))
        await self._session.execute(
            update(RequestLocationRecord)
            .where(col(RequestLocationRecord.request_id) == request_id)
            .values(waiting=status is RequestStatus.WAITING))

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        # The age window, as a birth-month range: one index scan per freed place.
        month = place.available_from.replace(day=1)
        index = RequestLocationRecord
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .join(index, col(index.request_id) == col(WaitingRequestRecord.request_id))
            .where(col(index.location_id) == place.location_id, col(index.waiting))
            .where(col(index.birth_month) >= shift_months(month, -place.max_age_months))
            .where(col(index.birth_month) <= shift_months(month, -place.min_age_months))
        )
        return [WaitingRequest.model_validate(record, from_attributes=True)
                for record in rows.scalars()]

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]:
        status = col(WaitingRequestRecord.status)
        rows = await self._session.execute(
            select(status, func.count())
            .where(col(WaitingRequestRecord.service_area) == service_area).group_by(status))
        return {RequestStatus(found): count for found, count in rows.all()}


class SqlPlaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, place_id: str) -> FreePlace | None:
        record = await self._session.get(PlaceRecord, place_id, with_for_update=True)
        return FreePlace.model_validate(record, from_attributes=True) if record else None

    async def add(self, place: FreePlace) -> None:
        self._session.add(PlaceRecord.model_validate(place, from_attributes=True))

    async def set_status(self, place_id: str, status: PlaceStatus) -> None:
        await self._session.execute(
            update(PlaceRecord).where(col(PlaceRecord.place_id) == place_id).values(status=status))

    async def open_at(self, location_ids: Sequence[str]) -> list[FreePlace]:
        rows = await self._session.execute(
            select(PlaceRecord)
            .where(col(PlaceRecord.location_id).in_(location_ids))
            .where(col(PlaceRecord.status) == PlaceStatus.OPEN))
        return [FreePlace.model_validate(record, from_attributes=True)
                for record in rows.scalars()]

    async def cancel_at(self, location_id: str) -> None:
        await self._session.execute(
            update(PlaceRecord)
            .where(col(PlaceRecord.location_id) == location_id)
            .where(col(PlaceRecord.status).in_((PlaceStatus.OPEN, PlaceStatus.PROPOSED)))
            .values(status=PlaceStatus.CANCELLED))

    async def count_by_status(self, service_area: str) -> dict[PlaceStatus, int]:
        status = col(PlaceRecord.status)
        rows = await self._session.execute(
            select(status, func.count())
            .where(col(PlaceRecord.service_area) == service_area).group_by(status))
        return {PlaceStatus(found): count for found, count in rows.all()}


class SqlMatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, match: Match) -> None:
        self._session.add(MatchRecord.model_validate(match, from_attributes=True))

    async def end_live_match_of(self, request_id: str) -> Match | None:
        record = (await self._session.execute(
            select(MatchRecord)
            .where(col(MatchRecord.request_id) == request_id, col(MatchRecord.active))
        )).scalars().first()
        if record is None:
            return None
        record.active = False
        return Match.model_validate(record, from_attributes=True)


class SqlClosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def is_closed(self, location_id: str) -> bool:
        return await self._session.get(ClosedLocationRecord, location_id) is not None

    async def close(self, location_id: str, closed_at: datetime) -> None:
        await self._session.merge(ClosedLocationRecord(location_id=location_id,
                                                       closed_at=closed_at))
