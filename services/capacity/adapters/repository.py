"""Locations, free places, offers, enrolments and closures over SQL, mapping records to
the domain model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loketkit.db import expire_held, insert_rows, plain_row, table_of
from services.capacity.adapters.orm import (
    ClosureRecord,
    EnrolmentRecord,
    FreePlaceRecord,
    LocationRecord,
    OfferRecord,
)
from services.capacity.domain.model import (
    Closure,
    Enrolment,
    EnrolmentSource,
    FreePlace,
    Location,
    Offer,
    PlaceStatus,
)

CLOSURE_LISTS = ("affected_enrolments", "open_offers", "cancelled_place_ids")


class SqlLocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Read for update in this transaction: no other can change them until it ends,
        # so a batch's next event at the same location needs no statement. (Their count
        # of open places is as locked: events do not show it.)
        self._locked: dict[str, Location] = {}

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
        if location_id in self._locked:
            return self._locked[location_id]
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
        location = to_domain(record, open_places or 0)
        if for_update:
            self._locked[location_id] = location
        return location

    async def get_many(self, location_ids: Iterable[str]) -> list[Location]:
        wanted = sorted(set(location_ids))
        missing = [location_id for location_id in wanted if location_id not in self._locked]
        if missing:
            self._locked.update((location.location_id, location)
                                for location in await self._lock_many(missing))
        return [self._locked[location_id] for location_id in wanted
                if location_id in self._locked]

    async def _lock_many(self, location_ids: list[str]) -> list[Location]:
        records = (await self._session.scalars(
            select(LocationRecord)
            .where(col(LocationRecord.location_id).in_(location_ids))
            .order_by(col(LocationRecord.location_id))
            .with_for_update()
        )).all()
        # Counted after the lock, like `get`: a statement of its own sees what the
        # transaction we may have waited for committed.
        counted = await self._session.execute(
            select(col(FreePlaceRecord.location_id), func.count())
            .where(col(FreePlaceRecord.location_id).in_([r.location_id for r in records]))
            .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)
            .group_by(col(FreePlaceRecord.location_id))
        )
        counts = {location_id: count for location_id, count in counted}
        return [to_domain(record, counts.get(record.location_id, 0)) for record in records]

    async def save(self, location: Location) -> None:
        if location.location_id in self._locked:
            self._locked[location.location_id] = location
        await self._session.execute(
            update(LocationRecord)
            .where(col(LocationRecord.location_id) == location.location_id)
            .values(closed=location.closed, licensed_places=location.licensed_places)
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
    """Lives for one transaction: a location's open places, once read, are kept and kept
    up to date by this repository's writes (only it writes free places, and a place never
    opens again), and so is whether a place id asked about exists: a batch of an
    organiser's events reads them once, not once per event."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._open: dict[str, dict[str, FreePlace]] = {}  # by location, then place id
        self._exists: dict[str, bool] = {}  # by place id, where asked or written

    async def add_all(self, places: Iterable[FreePlace], recorded_at: datetime) -> None:
        added = list(places)
        rows = [plain_row(place) | {"recorded_at": recorded_at} for place in added]
        # One statement for the lot: a burst of places is one round trip.
        await insert_rows(self._session, table_of(FreePlaceRecord), rows)
        for place in added:
            self._exists[place.place_id] = True
            if place.location_id in self._open and place.status is PlaceStatus.OPEN:
                self._open[place.location_id][place.place_id] = place

    async def exists(self, place_id: str) -> bool:
        return place_id in await self.known_among([place_id])

    async def known_among(self, place_ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(place_ids))
        missing = [place_id for place_id in wanted if place_id not in self._exists]
        if missing:
            found = set(await self._session.scalars(
                select(col(FreePlaceRecord.place_id))
                .where(col(FreePlaceRecord.place_id).in_(missing))))
            self._exists.update({place_id: place_id in found for place_id in missing})
        return {place_id for place_id in wanted if self._exists[place_id]}

    async def get(self, place_id: str) -> FreePlace | None:
        record = await self._session.get(FreePlaceRecord, place_id)
        return None if record is None else FreePlace.model_validate(record, from_attributes=True)

    async def open_at(self, location_id: str) -> list[FreePlace]:
        return await self.open_at_locations([location_id])

    async def open_at_locations(self, location_ids: Iterable[str]) -> list[FreePlace]:
        wanted = list(dict.fromkeys(location_ids))
        missing = [location_id for location_id in wanted if location_id not in self._open]
        if missing:
            for location_id in missing:
                self._open[location_id] = {}
            for record in await self._session.scalars(
                    select(FreePlaceRecord)
                    .where(col(FreePlaceRecord.location_id).in_(missing))
                    .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)):
                place = FreePlace.model_validate(record, from_attributes=True)
                self._open[place.location_id][place.place_id] = place
        return sorted((place for location_id in wanted
                       for place in self._open[location_id].values()),
                      key=lambda place: place.place_id)

    async def set_status(self, place_id: str, status: PlaceStatus) -> None:
        await self._session.execute(
            update(FreePlaceRecord)
            .where(col(FreePlaceRecord.place_id) == place_id)
            .values(status=status)
        )
        if status is PlaceStatus.OPEN:
            self._open.clear()  # (never done: a place does not open again) read again
        for kept in self._open.values():
            kept.pop(place_id, None)

    async def cancel_open_at(self, location_id: str) -> list[str]:
        cancelled = await self._session.execute(
            update(FreePlaceRecord)
            .where(col(FreePlaceRecord.location_id) == location_id)
            .where(col(FreePlaceRecord.status) == PlaceStatus.OPEN)
            .values(status=PlaceStatus.CANCELLED)
            .returning(col(FreePlaceRecord.place_id))
        )
        self._open[location_id] = {}
        return sorted(cancelled.scalars())


class SqlEnrolmentRepository:
    """Lives for one transaction: a location's enrolments, once read, are kept and kept
    up to date by this repository's writes (only it writes enrolments), so a batch that
    frees several places at a location reads its children once."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._at: dict[str, dict[str, Enrolment]] = {}  # by location, then enrolment id

    async def get(self, enrolment_id: str) -> Enrolment | None:
        for kept in self._at.values():  # (a batch's ended enrolments are at its locations)
            if enrolment_id in kept:
                return kept[enrolment_id]
        record = await self._session.get(EnrolmentRecord, enrolment_id)
        return None if record is None else Enrolment.model_validate(record, from_attributes=True)

    async def get_many(self, enrolment_ids: Iterable[str]) -> list[Enrolment]:
        """Those kept (a location's enrolments read are all of them there) and the rest
        read: a declaration repeats the children it declared before."""
        wanted = set(enrolment_ids)
        kept = [enrolment for at_location in self._at.values()
                for enrolment in at_location.values() if enrolment.enrolment_id in wanted]
        missing = wanted - {enrolment.enrolment_id for enrolment in kept}
        if missing:
            kept += await self._where(col(EnrolmentRecord.enrolment_id).in_(sorted(missing)))
        return sorted(kept, key=lambda enrolment: (enrolment.start_date, enrolment.enrolment_id))

    async def _where(self, condition: ColumnElement[bool]) -> list[Enrolment]:
        records = await self._session.scalars(
            select(EnrolmentRecord).where(condition)
            .order_by(col(EnrolmentRecord.start_date), col(EnrolmentRecord.enrolment_id))
        )
        return [Enrolment.model_validate(r, from_attributes=True) for r in records]

    async def at_location(self, location_id: str) -> list[Enrolment]:
        return await self.at_locations([location_id])

    async def at_locations(self, location_ids: Iterable[str]) -> list[Enrolment]:
        wanted = list(dict.fromkeys(location_ids))
        missing = [location_id for location_id in wanted if location_id not in self._at]
        if missing:
            for location_id in missing:
                self._at[location_id] = {}
            for found in await self._where(col(EnrolmentRecord.location_id).in_(missing)):
                self._at[found.location_id][found.enrolment_id] = found
        return sorted((enrolment for location_id in wanted
                       for enrolment in self._at[location_id].values()),
                      key=lambda enrolment: (enrolment.start_date, enrolment.enrolment_id))

    async def of_request(self, request_id: str) -> list[Enrolment]:
        return await self._where(col(EnrolmentRecord.request_id) == request_id)

    async def add(self, enrolment: Enrolment) -> None:
        self._session.add(EnrolmentRecord(**plain_row(enrolment)))
        await self._session.flush()
        if enrolment.location_id in self._at:
            self._at[enrolment.location_id][enrolment.enrolment_id] = enrolment

    async def save(self, enrolment: Enrolment) -> None:
        """Its end (the only change an enrolment takes)."""
        await self._session.execute(
            update(EnrolmentRecord)
            .where(col(EnrolmentRecord.enrolment_id) == enrolment.enrolment_id)
            .values(ends_on=enrolment.ends_on, end_reason=enrolment.end_reason)
        )
        kept = self._at.get(enrolment.location_id, {})
        if enrolment.enrolment_id in kept:
            kept[enrolment.enrolment_id] = kept[enrolment.enrolment_id].model_copy(update={
                "ends_on": enrolment.ends_on, "end_reason": enrolment.end_reason})

    async def replace_declared(self, location_id: str, enrolments: Iterable[Enrolment]) -> None:
        """Writes the difference: a declaration names every child at the location, and
        mostly the same children as the one before."""
        declared = {enrolment.enrolment_id: enrolment for enrolment in enrolments}
        stored = {enrolment.enrolment_id: enrolment
                  for enrolment in await self.at_location(location_id)
                  if enrolment.source is EnrolmentSource.DECLARED}
        unchanged = {enrolment_id for enrolment_id, enrolment in declared.items()
                     if stored.get(enrolment_id) == enrolment}
        if gone := sorted(set(stored) - unchanged):
            await self._session.execute(
                delete(EnrolmentRecord).where(col(EnrolmentRecord.enrolment_id).in_(gone)))
            expire_held(self._session, EnrolmentRecord, gone)  # written past the session
        await insert_rows(self._session, table_of(EnrolmentRecord),
                          [plain_row(enrolment) for enrolment_id, enrolment in declared.items()
                           if enrolment_id not in unchanged])
        kept = {enrolment_id: enrolment
                for enrolment_id, enrolment in self._at[location_id].items()
                if enrolment.source is not EnrolmentSource.DECLARED}
        self._at[location_id] = kept | declared


class SqlOfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, match_id: str) -> Offer | None:
        record = await self._session.get(OfferRecord, match_id)
        return None if record is None else Offer.model_validate(record, from_attributes=True)

    async def get_many(self, match_ids: Iterable[str]) -> list[Offer]:
        records = await self._session.scalars(
            select(OfferRecord)
            .where(col(OfferRecord.match_id).in_(list(match_ids)))
            .order_by(col(OfferRecord.match_id))
        )
        return [Offer.model_validate(r, from_attributes=True) for r in records]

    async def save(self, offer: Offer) -> None:
        await self.save_all([offer])

    async def save_all(self, offers: Iterable[Offer]) -> None:
        # The offers' own values as rows (the record has the same fields): building a
        # record per offer to dump cost more than its share of the statement.
        rows = sorted((plain_row(offer) for offer in offers),
                      key=lambda values: values["match_id"])
        if not rows:
            return
        # By match id: concurrent writers lock the rows they share in the same order.
        upsert = insert(table_of(OfferRecord))  # the table: no ORM bulk grouping of rows
        await self._session.execute(upsert.on_conflict_do_update(
            index_elements=[col(OfferRecord.match_id)],
            set_={name: upsert.excluded[name] for name in rows[0]},
        ), rows)
        # Written past the session: a record it still holds would be read back stale.
        expire_held(self._session, OfferRecord, [values["match_id"] for values in rows])

    async def at_location(self, location_id: str) -> list[Offer]:
        records = await self._session.scalars(
            select(OfferRecord)
            .where(col(OfferRecord.location_id) == location_id)
            .order_by(col(OfferRecord.match_id))
        )
        return [Offer.model_validate(r, from_attributes=True) for r in records]


class SqlClosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, closure: Closure) -> None:
        self._session.add(to_record(closure))
        await self._session.flush()

    async def get(self, closure_id: str, for_update: bool = True) -> Closure | None:
        query = select(ClosureRecord).where(col(ClosureRecord.closure_id) == closure_id)
        record = (
            await self._session.execute(query.with_for_update() if for_update else query)
        ).scalar_one_or_none()
        return None if record is None else closure_to_domain(record)

    async def save(self, closure: Closure) -> None:
        record = to_record(closure)
        await self._session.execute(
            update(ClosureRecord)
            .where(col(ClosureRecord.closure_id) == closure.closure_id)
            .values(status=record.status, released_at=record.released_at,
                    affected=record.affected)
        )

    async def at_location(self, location_id: str) -> list[Closure]:
        records = await self._session.scalars(
            select(ClosureRecord).where(col(ClosureRecord.location_id) == location_id)
            .order_by(col(ClosureRecord.registered_at), col(ClosureRecord.closure_id))
        )
        return [closure_to_domain(r) for r in records]

    async def in_area(self, service_area: str | None) -> list[Closure]:
        query = select(ClosureRecord)
        if service_area is not None:
            query = query.where(col(ClosureRecord.service_area) == service_area)
        records = await self._session.scalars(
            query.order_by(col(ClosureRecord.registered_at).desc(),
                           col(ClosureRecord.closure_id))
        )
        return [closure_to_domain(r) for r in records]


def to_domain(record: LocationRecord, open_free_places: int) -> Location:
    location = Location.model_validate(record, from_attributes=True)
    location.open_free_places = open_free_places
    return location


def to_record(closure: Closure) -> ClosureRecord:
    facts = closure.model_dump(mode="json")
    lists = {name: facts.pop(name) for name in CLOSURE_LISTS}
    record = ClosureRecord.model_validate(closure.model_dump(exclude=set(CLOSURE_LISTS)))
    record.affected = lists if closure.released_at is not None else None
    return record


def closure_to_domain(record: ClosureRecord) -> Closure:
    facts = record.model_dump(exclude={"affected"})
    return Closure.model_validate(facts | (record.affected or {}))
