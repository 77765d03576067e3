"""Matching's state over SQL, mapped to the domain's WaitingRequest and FreePlace."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.adapters.orm import (
    ClosedLocationRecord,
    MatchRecord,
    PlaceRecord,
    RequestLocationRecord,
    WaitingRequestRecord,
)
from services.matching.domain.model import FreePlace, WaitingRequest, shift_months


class SqlMatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # requests
    async def get_request(self, request_id: str) -> tuple[WaitingRequest, str] | None:
        record = await self._session.get(WaitingRequestRecord, request_id, with_for_update=True)
        return (to_request(record), record.status) if record else None

    async def add_request(self, request: WaitingRequest) -> None:
        self._session.add(from_request(request))
        await self._session.flush()  # the candidate rows below refer to it
        for location_id in request.preferred_location_ids:
            self._session.add(RequestLocationRecord(
                request_id=request.request_id, location_id=location_id,
                birth_month=request.birth_month,
            ))

    async def set_request_status(self, request_id: str, status: str) -> None:
        await self._session.execute(
            update(WaitingRequestRecord)
            .where(WaitingRequestRecord.request_id == request_id).values(status=status))
        await self._session.execute(
            update(RequestLocationRecord)
            .where(RequestLocationRecord.request_id == request_id)
            .values(waiting=status == "waiting"))

    async def candidates_for(self, place: FreePlace) -> list[WaitingRequest]:
        """Waiting requests that chose the place's location and have the right age."""
        month = place.available_from.replace(day=1)
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .join(RequestLocationRecord,
                  RequestLocationRecord.request_id == WaitingRequestRecord.request_id)
            .where(RequestLocationRecord.location_id == place.location_id)
            .where(RequestLocationRecord.waiting)
            .where(RequestLocationRecord.birth_month >= shift_months(month, -place.max_age_months))
            .where(RequestLocationRecord.birth_month <= shift_months(month, -place.min_age_months))
        )
        return [to_request(record) for record in rows.scalars()]

    # places
    async def get_place(self, place_id: str) -> tuple[FreePlace, str] | None:
        record = await self._session.get(PlaceRecord, place_id, with_for_update=True)
        return (to_place(record), record.status) if record else None

    async def add_place(self, place: FreePlace, status: str) -> None:
        self._session.add(PlaceRecord(**place.__dict__, status=status))

    async def set_place_status(self, place_id: str, status: str) -> None:
        await self._session.execute(
            update(PlaceRecord).where(PlaceRecord.place_id == place_id).values(status=status))

    async def open_places_at(self, location_ids: tuple[str, ...]) -> list[FreePlace]:
        rows = await self._session.execute(
            select(PlaceRecord)
            .where(PlaceRecord.location_id.in_(location_ids))  # type: ignore[attr-defined]
            .where(PlaceRecord.status == "open"))
        return [to_place(record) for record in rows.scalars()]

    async def cancel_places_at(self, location_id: str) -> None:
        await self._session.execute(
            update(PlaceRecord)
            .where(PlaceRecord.location_id == location_id)
            .where(PlaceRecord.status.in_(("open", "proposed")))  # type: ignore[attr-defined]
            .values(status="cancelled"))

    # matches and closures
    async def add_match(self, match_id: str, request_id: str, place: FreePlace) -> None:
        self._session.add(MatchRecord(
            match_id=match_id, place_id=place.place_id, request_id=request_id,
            location_id=place.location_id, proposed_at=datetime.now(UTC)))

    async def end_match_of(self, request_id: str) -> str | None:
        """Deactivates the request's live match; returns the place it held."""
        record = (await self._session.execute(
            select(MatchRecord).where(MatchRecord.request_id == request_id)
            .where(MatchRecord.active))).scalars().first()
        if record is None:
            return None
        record.active = False
        return record.place_id

    async def is_closed(self, location_id: str) -> bool:
        return await self._session.get(ClosedLocationRecord, location_id) is not None

    async def close(self, location_id: str) -> None:
        await self._session.merge(
            ClosedLocationRecord(location_id=location_id, closed_at=datetime.now(UTC)))


def to_request(record: WaitingRequestRecord) -> WaitingRequest:
    return WaitingRequest(
        request_id=record.request_id, service_area=record.service_area,
        municipality_nis=record.municipality_nis, birth_month=record.birth_month,
        desired_start_date=record.desired_start_date,
        preferred_location_ids=tuple(record.preferred_location_ids),
        sibling_location_ids=tuple(record.sibling_location_ids),
        priority_facts=record.priority_facts, urgency=record.urgency,
        submitted_at=record.submitted_at)


def from_request(request: WaitingRequest) -> WaitingRequestRecord:
    return WaitingRequestRecord(
        **{**request.__dict__, "preferred_location_ids": list(request.preferred_location_ids),
           "sibling_location_ids": list(request.sibling_location_ids)},
        status="waiting")


def to_place(record: PlaceRecord) -> FreePlace:
    return FreePlace(
        place_id=record.place_id, service_area=record.service_area,
        location_id=record.location_id, municipality_nis=record.municipality_nis,
        available_from=record.available_from, min_age_months=record.min_age_months,
        max_age_months=record.max_age_months)



