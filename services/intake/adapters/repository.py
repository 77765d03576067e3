"""Requests (with their offers), known locations, the audit log and imports over SQL,
mapping records to the domain model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from contracts.schedule import DayPart
from loketkit.db import insert_rows, table_of
from services.intake.adapters.orm import (
    AuditRecord,
    ImportRecord,
    LocationRecord,
    OfferRecord,
    PersonalLinkRecord,
    RequestRecord,
)
from services.intake.domain.locations import Location
from services.intake.domain.model import (
    AnsweredBy,
    AuditEntry,
    Child,
    Contact,
    Fit,
    ImportBatch,
    Offer,
    OfferStatus,
    Priority,
    Request,
    Status,
    Urgency,
    UrgencyStatus,
    Vulnerability,
)
from services.intake.personal_links import PersonalLink

PRIORITY = TypeAdapter(Priority)
REQUEST_COLUMNS = tuple(column.name for column in table_of(RequestRecord).columns)
OFFER_COLUMNS = tuple(column.name for column in table_of(OfferRecord).columns)
LOCATION_COLUMNS = [table_of(LocationRecord).c[name] for name in Location.model_fields]
VULNERABILITY = TypeAdapter(Vulnerability)
OPEN_STATUSES = (Status.WAITING.value, Status.PLACED.value)


class SqlRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _with_offers(self, records: Sequence[RequestRecord]) -> list[Request]:
        if not records:
            return []
        ids = [record.request_id for record in records]
        rows = await self._session.execute(
            select(OfferRecord).where(col(OfferRecord.request_id).in_(ids))
            .order_by(col(OfferRecord.proposed_at), col(OfferRecord.match_id))
        )
        offers: dict[str, list[Offer]] = {}
        for offer in rows.scalars():
            offers.setdefault(offer.request_id, []).append(offer_to_domain(offer))
        return [to_domain(record, offers.get(record.request_id, [])) for record in records]

    async def _one(self, record: RequestRecord | None) -> Request | None:
        return (await self._with_offers([record]))[0] if record else None

    async def add(self, request: Request) -> None:
        await self.add_many([request])

    async def add_many(self, requests: Sequence[Request]) -> None:
        # Core rows, not records: building and flushing a record cost more than the
        # statement (a registration's largest share after the framework's).
        await insert_rows(self._session, table_of(RequestRecord),
                          [request_row(request) for request in requests])
        for request in requests:
            for offer in request.offers:
                self._session.add(offer_to_record(offer))

    async def get(self, request_id: str) -> Request | None:
        return await self._one(await self._session.get(RequestRecord, request_id))

    async def get_for_update(self, request_id: str) -> Request | None:
        """Locks the row: an answer and an event never change one request at once."""
        return await self._one(
            await self._session.get(RequestRecord, request_id, with_for_update=True))

    async def get_many_for_update(self, request_ids: Iterable[str]) -> list[Request]:
        ids = sorted(set(request_ids))
        if not ids:
            return []
        records = await self._session.scalars(
            select(RequestRecord).where(col(RequestRecord.request_id).in_(ids))
            .order_by(col(RequestRecord.request_id))  # one lock order: no deadlock
            .with_for_update())
        return await self._with_offers(list(records))

    async def save(self, request: Request) -> None:
        await self._session.merge(to_record(request))
        for offer in request.offers:
            await self._session.merge(offer_to_record(offer))

    async def save_many(self, requests: Iterable[Request]) -> None:
        # As `save` does, without a merge: the stored rows are read in two statements
        # (the session's own records, if it holds them) and only the values that changed
        # are set on them, for the next flush to write in a statement per table; rows
        # not stored are inserted as Core rows. Building a record (to merge or add) cost
        # ~0.2 ms, more than its share of the statement.
        saved = list(requests)
        if not saved:
            return
        rows = [request_row(request) for request in saved]
        offers = [offer_row(offer) for request in saved for offer in request.offers]
        held_requests = (await self._session.scalars(select(RequestRecord).where(
            col(RequestRecord.request_id).in_([row["request_id"] for row in rows])))).all()
        held_offers = (await self._session.scalars(select(OfferRecord).where(
            col(OfferRecord.match_id).in_([row["match_id"] for row in offers])))).all()
        # New rows as Core rows, requests before their offers.
        await insert_rows(self._session, table_of(RequestRecord),
                          self._set_changes(held_requests, "request_id", rows))
        await insert_rows(self._session, table_of(OfferRecord),
                          self._set_changes(held_offers, "match_id", offers))

    @staticmethod
    def _set_changes(held: Sequence[RequestRecord | OfferRecord], key: str,
                     rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sets the rows' changed values on the records held; returns the rows not held."""
        by_key = {getattr(record, key): record for record in held}
        new = []
        for row in rows:
            record = by_key.get(row[key])
            if record is None:
                new.append(row)
                continue
            for name, value in row.items():
                if getattr(record, name) != value:
                    setattr(record, name, value)
        return new

    async def by_match(self, match_id: str) -> Request | None:
        offer = await self._session.get(OfferRecord, match_id)
        return await self.get(offer.request_id) if offer else None

    async def with_offers_at(self, location_id: str) -> list[Request]:
        rows = await self._session.execute(
            select(RequestRecord)
            .where(exists().where(col(OfferRecord.request_id) == col(RequestRecord.request_id))
                   .where(col(OfferRecord.location_id) == location_id))
            .where(col(RequestRecord.status).in_(OPEN_STATUSES))
            .order_by(col(RequestRecord.request_id))
            .with_for_update()
        )
        return await self._with_offers(list(rows.scalars()))

    async def closed_out_at(self, location_id: str, closure_id: str) -> list[Request]:
        rows = await self._session.execute(
            select(RequestRecord)
            .where(exists().where(col(OfferRecord.request_id) == col(RequestRecord.request_id))
                   .where(col(OfferRecord.location_id) == location_id))
            .where(or_(col(RequestRecord.status) == Status.REPLACED.value,
                       col(RequestRecord.needs_loket_for_closure_id) == closure_id))
            .order_by(col(RequestRecord.request_id))
        )
        return await self._with_offers(list(rows.scalars()))

    async def claim_to_ask(
        self, service_area: str, based_until: datetime, limit: int
    ) -> list[Request]:
        base = func.coalesce(col(RequestRecord.last_confirmed_at),
                             col(RequestRecord.submitted_at))
        rows = await self._session.execute(
            select(RequestRecord)
            .where(col(RequestRecord.service_area) == service_area)
            .where(col(RequestRecord.status) == Status.WAITING.value)
            .where(col(RequestRecord.confirmation_asked_at).is_(None))
            .where(base <= based_until)
            .order_by(base, col(RequestRecord.request_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._with_offers(list(rows.scalars()))

    async def claim_to_expire(
        self, service_area: str, asked_until: datetime, limit: int
    ) -> list[Request]:
        rows = await self._session.execute(
            select(RequestRecord)
            .where(col(RequestRecord.service_area) == service_area)
            .where(col(RequestRecord.status) == Status.WAITING.value)
            .where(col(RequestRecord.confirmation_asked_at) <= asked_until)
            .order_by(col(RequestRecord.confirmation_asked_at), col(RequestRecord.request_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._with_offers(list(rows.scalars()))

    async def listing(
        self, *, without_email: bool, has_open_offer: bool, needs_loket: bool, limit: int,
        owner_subject: str | None = None, urgency_status: UrgencyStatus | None = None,
    ) -> list[Request]:
        query = select(RequestRecord).where(col(RequestRecord.status).in_(OPEN_STATUSES))
        if owner_subject is not None:
            query = query.where(col(RequestRecord.owner_subject) == owner_subject)
        if urgency_status is not None:
            query = query.where(col(RequestRecord.urgency_status) == urgency_status)
        if without_email:
            query = query.where(col(RequestRecord.email).is_(None))
        if needs_loket:
            query = query.where(col(RequestRecord.needs_loket_for_closure_id).is_not(None))
        if has_open_offer:
            query = query.where(
                exists().where(col(OfferRecord.request_id) == col(RequestRecord.request_id))
                .where(col(OfferRecord.status) == OfferStatus.OPEN.value))
        rows = await self._session.execute(
            query.order_by(col(RequestRecord.submitted_at), col(RequestRecord.request_id))
            .limit(limit))
        return await self._with_offers(list(rows.scalars()))


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, location: Location) -> None:
        record = LocationRecord.model_validate(location, from_attributes=True)
        known = await self._session.get(LocationRecord, location.location_id)
        if known and known.closed:
            record.closed, record.closure_id, record.closed_from = (
                True, known.closure_id, known.closed_from)
        await self._session.merge(record)

    async def get(self, location_id: str) -> Location | None:
        record = await self._session.get(LocationRecord, location_id)
        return Location.model_validate(record, from_attributes=True) if record else None

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        records = await self._session.scalars(
            select(LocationRecord).where(col(LocationRecord.location_id).in_(list(location_ids)))
            .order_by(col(LocationRecord.location_id)))
        return [Location.model_validate(record, from_attributes=True) for record in records]

    async def close(self, location_id: str, closure_id: str, closed_from: date) -> None:
        record = await self._session.get(LocationRecord, location_id)
        if record:
            record.closed, record.closure_id, record.closed_from = True, closure_id, closed_from

    async def open_in(self, service_area: str,
                      among: Iterable[str] | None = None) -> list[Location]:
        # Plain rows, not records: every registration reads these.
        query = (select(*LOCATION_COLUMNS)
                 .where(col(LocationRecord.service_area) == service_area)
                 .where(col(LocationRecord.closed).is_(False)))
        if among is not None:
            query = query.where(col(LocationRecord.location_id).in_(list(among)))
        rows = await self._session.execute(query.order_by(col(LocationRecord.location_id)))
        return [Location(**row._mapping) for row in rows]

    async def all(self) -> list[Location]:
        rows = await self._session.execute(
            select(LocationRecord)
            .order_by(col(LocationRecord.name), col(LocationRecord.location_id))
        )
        return [Location.model_validate(record, from_attributes=True) for record in rows.scalars()]


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> None:
        self._session.add(AuditRecord.model_validate(entry, from_attributes=True))

    async def for_request(self, request_id: str) -> list[AuditEntry]:
        rows = await self._session.execute(
            select(AuditRecord).where(col(AuditRecord.request_id) == request_id)
            .order_by(col(AuditRecord.at), col(AuditRecord.audit_id)))
        return [AuditEntry(r.audit_id, r.request_id, r.match_id, r.action, r.actor,
                           r.staff_member, r.at) for r in rows.scalars()]


class SqlPersonalLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link: PersonalLink) -> None:
        await insert_rows(self._session, table_of(PersonalLinkRecord), [asdict(link)])

    async def get(self, link_id: str) -> PersonalLink | None:
        r = await self._session.get(PersonalLinkRecord, link_id)
        return PersonalLink(r.link_id, r.request_id, r.issued_at, r.expires_at,
                            r.revoked_at) if r else None

    async def revoke_all(self, request_id: str, now: datetime) -> int:
        result = await self._session.execute(
            update(PersonalLinkRecord)
            .where(col(PersonalLinkRecord.request_id) == request_id)
            .where(col(PersonalLinkRecord.revoked_at).is_(None))
            .values(revoked_at=now))
        return int(getattr(result, "rowcount", 0) or 0)


class SqlImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, batch: ImportBatch) -> None:
        self._session.add(ImportRecord.model_validate(batch, from_attributes=True))

    async def get(self, import_id: str) -> ImportBatch | None:
        r = await self._session.get(ImportRecord, import_id)
        return ImportBatch(r.import_id, r.rows, r.imported_at, r.imported_by) if r else None


def to_record(request: Request) -> RequestRecord:
    """The request's own fields map by name; child, contact and priority are flattened."""
    return RequestRecord.model_validate(request, from_attributes=True,
                                        update=flattened(request))


def request_row(request: Request) -> dict[str, Any]:
    """`to_record`'s values as a row for a Core insert (every column named)."""
    flat = flattened(request)
    return {name: flat[name] if name in flat else getattr(request, name)
            for name in REQUEST_COLUMNS}


def flattened(request: Request) -> dict[str, Any]:
    """The columns whose values are not the request's own fields by name."""
    child, contact = request.child, request.contact
    return {
        "status": request.status.value,
        "child_first_name": child.first_name,
        "child_last_name": child.last_name,
        "child_birth_date": child.birth_date,
        "child_national_number": child.national_number,
        "parent_name": contact.parent_name,
        "email": contact.email,
        "phone": contact.phone,
        "street": contact.street,
        "postcode": contact.postcode,
        "day_parts": list(request.day_parts),
        "sibling_request_ids": list(request.sibling_request_ids),
        "preferred_location_ids": list(request.preferred_location_ids),
        "distance_location_ids": list(request.distance_location_ids),
        "priority": asdict(request.priority)
        | {"sibling_location_ids": list(request.priority.sibling_location_ids)},
        "vulnerability": asdict(request.vulnerability) if request.vulnerability else None,
    }


def to_domain(record: RequestRecord, offers: list[Offer]) -> Request:
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
        day_parts=tuple(cast(list[DayPart], record.day_parts)),
        preferred_location_ids=tuple(record.preferred_location_ids),
        max_distance_km=record.max_distance_km,
        distance_location_ids=tuple(record.distance_location_ids),
        priority=PRIORITY.validate_python(record.priority),
        urgency=cast(Urgency, record.urgency),
        submitted_at=record.submitted_at,
        accepts_partial_fit=record.accepts_partial_fit,
        share_contact_with_organiser=record.share_contact_with_organiser,
        sibling_request_ids=tuple(record.sibling_request_ids),
        status=Status(record.status),
        last_confirmed_at=record.last_confirmed_at,
        confirmation_asked_at=record.confirmation_asked_at,
        replaces_request_id=record.replaces_request_id,
        replaced_by_request_id=record.replaced_by_request_id,
        needs_loket_for_closure_id=record.needs_loket_for_closure_id,
        import_id=record.import_id,
        owner_subject=record.owner_subject,
        erased_at=record.erased_at,
        sworn_statement_at=record.sworn_statement_at,
        urgency_status=cast(UrgencyStatus, record.urgency_status),
        urgency_reason=record.urgency_reason,
        urgency_decision_reason=record.urgency_decision_reason,
        vulnerability=(VULNERABILITY.validate_python(record.vulnerability)
                       if record.vulnerability is not None else None),
        assessed_at=record.assessed_at,
        offers=offers,
    )


def offer_to_record(offer: Offer) -> OfferRecord:
    return OfferRecord(**offer_row(offer))


def offer_row(offer: Offer) -> dict[str, Any]:
    flat = {"status": offer.status.value, "day_parts": list(offer.day_parts)}
    return {name: flat[name] if name in flat else getattr(offer, name)
            for name in OFFER_COLUMNS}


def offer_to_domain(record: OfferRecord) -> Offer:
    return Offer(
        match_id=record.match_id, request_id=record.request_id,
        location_id=record.location_id, place_id=record.place_id,
        start_date=record.start_date, day_parts=tuple(cast(list[DayPart], record.day_parts)),
        fit=cast(Fit, record.fit), family_answer_due=record.family_answer_due,
        organiser_answer_due=record.organiser_answer_due, proposed_at=record.proposed_at,
        status=OfferStatus(record.status), cancel_reason=record.cancel_reason,
        refusal_reason=record.refusal_reason,
        keep_waiting_for_higher_choices=record.keep_waiting_for_higher_choices,
        answered_by=cast(AnsweredBy | None, record.answered_by),
        answered_at=record.answered_at, enrolment_id=record.enrolment_id,
        ended_on=record.ended_on, rule_set=record.rule_set, why=record.why,
    )
