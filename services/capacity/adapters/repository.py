"""Locations, free places and closures over SQL, mapping records to the domain model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.capacity.adapters.orm import ClosureRecord, FreePlaceRecord, LocationRecord
from services.capacity.domain.model import Closure, FreePlace, Location, PlaceStatus


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, location: Location, registered_at: datetime) -> bool:
        """Insert unless the id is taken; False then (also when a concurrent insert won)."""
        record = LocationRecord.model_validate(
            location, from_attributes=True, update={"registered_at": registered_at}
        )
        inserted = await self._session.execute(
            insert(LocationRecord)
            .values(**record.model_dump())
            .on_conflict_do_nothing(index_elements=[col(LocationRecord.location_id)])
            .returning(col(LocationRecord.location_id))
        )
        return inserted.first() is not None

    async def get(self, location_id: str, for_update: bool = True) -> Location | None:
        query = select(LocationRecord).where(col(LocationRecord.location_id) == location_id)
        record = (
            await self._session.execute(query.with_for_update() if for_update else query)
        ).scalar_one_or_none()
        if record is None:
            return None
        open_places = await self._session.scalar(
            select(func.count())
            .select_from(FreePlaceRecord)
            .where(col(FreePlaceRecord.location_id) == location_id)
            .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)
        )
        return to_domain(record, open_places or 0)

    async def save(self, location: Location) -> None:
        await self._session.execute(
            update(LocationRecord)
            .where(col(LocationRecord.location_id) == location.location_id)
            .values(closed=location.closed)
        )

    async def all(self) -> list[Location]:
        open_counts = (
            select(col(FreePlaceRecord.location_id), func.count().label("open_places"))
            .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)
            .group_by(col(FreePlaceRecord.location_id))
            .subquery()
        )
        rows = await self._session.execute(
            select(LocationRecord, func.coalesce(open_counts.c.open_places, 0))
            .outerjoin(open_counts, open_counts.c.location_id == col(LocationRecord.location_id))
            .order_by(col(LocationRecord.name), col(LocationRecord.location_id))
        )
        return [to_domain(record, open_places) for record, open_places in rows]


class SqlFreePlaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None:
        self._session.add_all(
            FreePlaceRecord.model_validate(
                place, from_attributes=True, update={"recorded_at": recorded_at}
            )
            for place in places
        )

    async def exists(self, place_id: str) -> bool:
        return await self._session.get(FreePlaceRecord, place_id) is not None

    async def cancel_open_at(self, location_id: str) -> list[str]:
        cancelled = await self._session.execute(
            update(FreePlaceRecord)
            .where(col(FreePlaceRecord.location_id) == location_id)
            .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)
            .values(status=PlaceStatus.CANCELLED)
            .returning(col(FreePlaceRecord.place_id))
        )
        return sorted(cancelled.scalars())


class SqlClosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, closure: Closure) -> None:
        self._session.add(ClosureRecord.model_validate(closure, from_attributes=True))


def to_domain(record: LocationRecord, open_free_places: int) -> Location:
    location = Location.model_validate(record, from_attributes=True)
    location.open_free_places = open_free_places
    return location
