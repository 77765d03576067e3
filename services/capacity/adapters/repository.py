"""Locations, free places and closures over SQL, mapping records to the domain model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from loketkit.db import utcnow
from services.capacity.adapters.orm import ClosureRecord, FreePlaceRecord, LocationRecord
from services.capacity.domain.model import Closure, FreePlace, Location, PlaceStatus

LOCATION_FIELDS = (
    "location_id", "service_area", "name", "municipality_nis", "postcode", "capacity",
    "subsidy_tier", "min_age_months", "max_age_months", "closed",
)


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, location: Location, registered_at: datetime) -> bool:
        """Insert unless the id is taken; False then (also when a concurrent insert won)."""
        values: dict[str, Any] = {name: getattr(location, name) for name in LOCATION_FIELDS}
        inserted = await self._session.execute(
            insert(LocationRecord)
            .values(**values, registered_at=registered_at)
            .on_conflict_do_nothing(index_elements=["location_id"])
            .returning(LocationRecord.location_id)
        )
        return inserted.first() is not None

    async def get(self, location_id: str, for_update: bool = True) -> Location | None:
        """The location with its count of open places; locked, so offers are serialised."""
        query = select(LocationRecord).where(LocationRecord.location_id == location_id)
        record = (await self._session.execute(
            query.with_for_update() if for_update else query
        )).scalar_one_or_none()
        if record is None:
            return None
        open_places = await self._session.scalar(
            select(func.count())
            .select_from(FreePlaceRecord)
            .where(FreePlaceRecord.location_id == location_id)
            .where(FreePlaceRecord.status == PlaceStatus.OPEN.value)
        )
        return to_domain(record, open_places or 0)

    async def save(self, location: Location) -> None:
        await self._session.execute(
            update(LocationRecord)
            .where(LocationRecord.location_id == location.location_id)
            .values(closed=location.closed)
        )

    async def all(self) -> list[Location]:
        open_counts = (
            select(FreePlaceRecord.location_id, func.count().label("open_places"))
            .where(FreePlaceRecord.status == PlaceStatus.OPEN.value)
            .group_by(FreePlaceRecord.location_id)
            .subquery()
        )
        rows = await self._session.execute(
            select(LocationRecord, func.coalesce(open_counts.c.open_places, 0))
            .outerjoin(open_counts, open_counts.c.location_id == LocationRecord.location_id)
            .order_by(LocationRecord.name, LocationRecord.location_id)
        )
        return [to_domain(record, open_places) for record, open_places in rows.tuples()]


class SqlFreePlaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, places: Iterable[FreePlace]) -> None:
        now = utcnow()
        self._session.add_all(
            FreePlaceRecord(
                place_id=place.place_id,
                location_id=place.location_id,
                available_from=place.available_from,
                min_age_months=place.min_age_months,
                max_age_months=place.max_age_months,
                status=place.status.value,
                source=place.source,
                recorded_at=now,
            )
            for place in places
        )

    async def exists(self, place_id: str) -> bool:
        return await self._session.get(FreePlaceRecord, place_id) is not None

    async def cancel_open_at(self, location_id: str) -> list[str]:
        """Cancel the location's open places; returns their ids."""
        cancelled = await self._session.execute(
            update(FreePlaceRecord)
            .where(FreePlaceRecord.location_id == location_id)
            .where(FreePlaceRecord.status == PlaceStatus.OPEN.value)
            .values(status=PlaceStatus.CANCELLED.value)
            .returning(FreePlaceRecord.place_id)
        )
        return sorted(cancelled.scalars())


class SqlClosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, closure: Closure) -> None:
        self._session.add(ClosureRecord(**asdict(closure)))


def to_domain(record: LocationRecord, open_free_places: int) -> Location:
    fields: dict[str, Any] = {name: getattr(record, name) for name in LOCATION_FIELDS}
    return Location(**fields, open_free_places=open_free_places)
