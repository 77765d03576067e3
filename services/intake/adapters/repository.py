"""Requests and known locations over SQL, mapping records to the domain model."""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.intake.adapters.orm import LocationRecord, RequestRecord
from services.intake.domain.locations import Location
from services.intake.domain.model import Child, Contact, Priority, Request, Status, Urgency

PRIORITY = TypeAdapter(Priority)


class SqlRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, request: Request) -> None:
        self._session.add(to_record(request))

    async def get(self, request_id: str) -> Request | None:
        record = await self._session.get(RequestRecord, request_id)
        return to_domain(record) if record else None

    async def get_for_update(self, request_id: str) -> Request | None:
        """Locks the row: a withdrawal and a proposal never change one request at once."""
        record = await self._session.get(RequestRecord, request_id, with_for_update=True)
        return to_domain(record) if record else None

    async def save(self, request: Request) -> None:
        await self._session.merge(to_record(request))

    async def proposed_at(self, location_id: str) -> list[Request]:
        rows = await self._session.execute(
            select(RequestRecord)
            .where(col(RequestRecord.proposed_location_id) == location_id)
            .where(col(RequestRecord.status) == Status.PROPOSED)
            .order_by(col(RequestRecord.request_id))
            .with_for_update()
        )
        return [to_domain(record) for record in rows.scalars()]


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, location: Location) -> None:
        await self._session.merge(LocationRecord.model_validate(location, from_attributes=True))

    async def close(self, location_id: str) -> None:
        record = await self._session.get(LocationRecord, location_id)
        if record:
            record.closed = True

    async def open_in(self, service_area: str) -> list[Location]:
        rows = await self._session.execute(
            select(LocationRecord)
            .where(col(LocationRecord.service_area) == service_area)
            .where(col(LocationRecord.closed).is_(False))
            .order_by(col(LocationRecord.location_id))
        )
        return [Location.model_validate(record, from_attributes=True) for record in rows.scalars()]

    async def all(self) -> list[Location]:
        rows = await self._session.execute(
            select(LocationRecord)
            .order_by(col(LocationRecord.name), col(LocationRecord.location_id))
        )
        return [Location.model_validate(record, from_attributes=True) for record in rows.scalars()]


def to_record(request: Request) -> RequestRecord:
    """The request's own fields map by name; child, contact and priority are flattened."""
    child, contact = request.child, request.contact
    return RequestRecord.model_validate(
        request,
        from_attributes=True,
        update={
            "child_first_name": child.first_name,
            "child_last_name": child.last_name,
            "child_birth_date": child.birth_date,
            "child_national_number": child.national_number,
            "parent_name": contact.parent_name,
            "email": contact.email,
            "phone": contact.phone,
            "street": contact.street,
            "postcode": contact.postcode,
            "preferred_location_ids": list(request.preferred_location_ids),
            "priority": asdict(request.priority)
            | {"sibling_location_ids": list(request.priority.sibling_location_ids)},
        },
    )


def to_domain(record: RequestRecord) -> Request:
    return Request(
        request_id=record.request_id,
        service_area=record.service_area,
        child=Child(record.child_first_name, record.child_last_name,
                    record.child_birth_date, record.child_national_number),
        contact=Contact(record.parent_name, record.email, record.phone,
                        record.street, record.postcode),
        municipality_nis=record.municipality_nis,
        neighbourhood_code=record.neighbourhood_code,
        desired_start_date=record.desired_start_date,
        days_per_week=record.days_per_week,
        preferred_location_ids=tuple(record.preferred_location_ids),
        priority=PRIORITY.validate_python(record.priority),
        urgency=cast(Urgency, record.urgency),
        submitted_at=record.submitted_at,
        status=Status(record.status),
        replaces_request_id=record.replaces_request_id,
        replaced_by_request_id=record.replaced_by_request_id,
        erased_at=record.erased_at,
        match_id=record.match_id,
        proposed_location_id=record.proposed_location_id,
        proposed_place_id=record.proposed_place_id,
    )
