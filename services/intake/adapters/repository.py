"""Requests and known locations over SQL, mapping records to the domain model."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import LocationRegistered
from services.intake.adapters.orm import LocationRecord, RequestRecord
from services.intake.domain.model import Child, Contact, Priority, Request, Status


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
            .where(RequestRecord.proposed_location_id == location_id)
            .where(RequestRecord.status == Status.PROPOSED.value)
            .with_for_update()
        )
        return [to_domain(record) for record in rows.scalars()]


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, location: LocationRegistered) -> None:
        await self._session.merge(
            LocationRecord(
                location_id=location.location_id,
                service_area=location.service_area,
                name=location.name,
                municipality_nis=location.municipality_nis,
                postcode=location.postcode,
                subsidy_tier=location.subsidy_tier,
            )
        )

    async def close(self, location_id: str) -> None:
        record = await self._session.get(LocationRecord, location_id)
        if record:
            record.closed = True

    async def open_ids(self, service_area: str) -> list[str]:
        rows = await self._session.execute(
            select(LocationRecord.location_id)
            .where(LocationRecord.service_area == service_area)
            .where(LocationRecord.closed.is_(False))  # type: ignore[attr-defined]
            .order_by(LocationRecord.location_id)
        )
        return list(rows.scalars())

    async def all(self) -> list[LocationRecord]:
        rows = await self._session.execute(select(LocationRecord).order_by(LocationRecord.name))
        return list(rows.scalars())


def to_record(request: Request) -> RequestRecord:
    return RequestRecord(
        request_id=request.request_id,
        service_area=request.service_area,
        status=request.status.value,
        urgency=request.urgency,
        child_first_name=request.child.first_name,
        child_last_name=request.child.last_name,
        child_birth_date=request.child.birth_date,
        child_national_number=request.child.national_number,
        parent_name=request.contact.parent_name,
        email=request.contact.email,
        phone=request.contact.phone,
        street=request.contact.street,
        postcode=request.contact.postcode,
        municipality_nis=request.municipality_nis,
        neighbourhood_code=request.neighbourhood_code,
        desired_start_date=request.desired_start_date,
        days_per_week=request.days_per_week,
        preferred_location_ids=list(request.preferred_location_ids),
        priority={**request.priority.__dict__,
                  "sibling_location_ids": list(request.priority.sibling_location_ids)},
        submitted_at=request.submitted_at,
        replaces_request_id=request.replaces_request_id,
        replaced_by_request_id=request.replaced_by_request_id,
        erased_at=request.erased_at,
        match_id=request.match_id,
        proposed_location_id=request.proposed_location_id,
        proposed_place_id=request.proposed_place_id,
    )


def to_domain(record: RequestRecord) -> Request:
    priority = dict(record.priority)
    priority["sibling_location_ids"] = tuple(priority.get("sibling_location_ids", ()))
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
        priority=Priority(**priority),
        urgency=record.urgency,
        submitted_at=record.submitted_at,
        status=Status(record.status),
        replaces_request_id=record.replaces_request_id,
        replaced_by_request_id=record.replaced_by_request_id,
        erased_at=record.erased_at,
        match_id=record.match_id,
        proposed_location_id=record.proposed_location_id,
        proposed_place_id=record.proposed_place_id,
    )
