"""Matching's repositories over SQL, mapped to the domain's models.

Records and domain models have the same fields, so each side validates the other
(`model_validate(..., from_attributes=True)`) instead of copying field by field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Select, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from contracts.events.capacity import SubsidyTier
from loketkit.db import expire_held, insert_rows, plain_row, table_of, update_rows
from services.matching.adapters.orm import (
    AreaRankingRecord,
    ClosedLocationRecord,
    EnrolmentRecord,
    LocationRecord,
    MatchRecord,
    PlaceRecord,
    RequestLocationRecord,
    RoundRecord,
    WaitingRequestRecord,
)
from services.matching.domain.model import (
    LIVE,
    Addressee,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    born_between,
)
from services.matching.domain.ranking import CandidateKey
from services.matching.domain.rounds import AllocationRound
from services.matching.ports import CandidateRead


def _candidates_in(order: str, gate: str) -> str:
    return f"""(SELECT i.priority_group AS in_group, i.sort_key AS by_key, r.*
                FROM request_locations i JOIN requests r ON r.request_id = i.request_id
                WHERE {gate} AND i.location_id = reads.location_id AND i.waiting
                  AND i.birth_month >= reads.born_from AND i.birth_month <= reads.born_to
                ORDER BY {order} LIMIT reads.lim)"""


# `RequestRepository.candidates_born_at`: the reads as arrays; for each, the branch its
# order wants runs (the other is gated off once per read), each down its own partial
# index: (location_id, priority_group DESC, sort_key) or (location_id, sort_key).
CANDIDATES_BORN_AT = text(f"""
SELECT reads.nth, candidates.*
FROM unnest(CAST(:location_ids AS VARCHAR[]), CAST(:born_from AS DATE[]),
            CAST(:born_to AS DATE[]), CAST(:priority_first AS BOOLEAN[]),
            CAST(:limits AS INTEGER[]))
     WITH ORDINALITY AS reads(location_id, born_from, born_to, priority_first, lim, nth)
CROSS JOIN LATERAL (
    {_candidates_in("i.priority_group DESC, i.sort_key", "reads.priority_first")}
    UNION ALL
    {_candidates_in("i.sort_key", "NOT reads.priority_first")}
) AS candidates""")


class SqlRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Each request as its record stands in this session, validated once: a burst
        # reads the same requests as candidates at several locations, and validating
        # them again was a fifth of its CPU. The session hands out the same record,
        # unchanged, until it is read with `populate_existing` or written here: both
        # set the entry again.
        self._known: dict[str, WaitingRequest] = {}

    def _known_as(self, record: WaitingRequestRecord) -> WaitingRequest:
        known = self._known.get(record.request_id)
        return known if known is not None else self._fresh(record)

    def _fresh(self, record: WaitingRequestRecord) -> WaitingRequest:
        known = self._known[record.request_id] = WaitingRequest.model_validate(
            record, from_attributes=True)
        return known

    async def get(self, request_id: str) -> WaitingRequest | None:
        record = await self._session.get(WaitingRequestRecord, request_id, with_for_update=True)
        return self._fresh(record) if record else None

    async def add(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        self._known[request.request_id] = request
        self._session.add(WaitingRequestRecord.model_validate(request, from_attributes=True))
        await self._session.flush()  # the candidate rows below refer to it
        self._session.add_all(self._index_rows(request, keys))

    async def known_among(self, request_ids: Sequence[str]) -> set[str]:
        found = await self._session.scalars(
            select(col(WaitingRequestRecord.request_id))
            .where(col(WaitingRequestRecord.request_id).in_(request_ids)))
        return set(found)

    async def add_many(self, added: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                       ) -> None:
        # Past the session, two statements for the lot: nothing here was read into it.
        self._known.update((request.request_id, request) for request, _ in added)
        await insert_rows(self._session, table_of(WaitingRequestRecord),
                          [plain_row(request) for request, _ in added])
        await insert_rows(self._session, table_of(RequestLocationRecord), [
            values for request, keys in added for values in self._index_values(request, keys)])

    async def save(self, request: WaitingRequest, keys: Mapping[str, CandidateKey]) -> None:
        self._known[request.request_id] = request
        await self._session.merge(
            WaitingRequestRecord.model_validate(request, from_attributes=True))
        await self._session.execute(
            delete(RequestLocationRecord)
            .where(col(RequestLocationRecord.request_id) == request.request_id))
        await self._session.flush()
        self._session.add_all(self._index_rows(request, keys))

    @classmethod
    def _index_rows(cls, request: WaitingRequest, keys: Mapping[str, CandidateKey]
                    ) -> list[RequestLocationRecord]:
        return [RequestLocationRecord(**values) for values in cls._index_values(request, keys)]

    @staticmethod
    def _index_values(request: WaitingRequest, keys: Mapping[str, CandidateKey]
                      ) -> list[dict[str, Any]]:
        """The request's candidate index rows as plain values (cheaper than records)."""
        return [
            {"request_id": request.request_id, "location_id": location_id, "rank": rank,
             "birth_month": request.birth_month, "waiting": request.waits_at(location_id),
             "sort_key": keys[location_id].sort_key,
             "priority_group": keys[location_id].priority_group}
            for rank, location_id in enumerate(request.preferred_location_ids)
        ]

    async def candidates_for(self, place: FreePlace, *, priority_first: bool, offset: int,
                             limit: int) -> list[WaitingRequest]:
        # Read from the ranked index in order, a page at a time: the first pages hold the
        # best candidates, so the cost does not grow with the waiting list. The age window
        # (as a birth-month range) is checked on the rows as they come.
        born_from, born_to = born_between(place)
        return await self._candidates(place.location_id, born_from, born_to,
                                      priority_first=priority_first, offset=offset,
                                      limit=limit)

    async def _candidates(self, location_id: str, born_from: date, born_to: date, *,
                          priority_first: bool, offset: int, limit: int
                          ) -> list[WaitingRequest]:
        index = RequestLocationRecord
        order = ((col(index.priority_group).desc(), col(index.sort_key)) if priority_first
                 else (col(index.sort_key),))
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .join(index, col(index.request_id) == col(WaitingRequestRecord.request_id))
            .where(col(index.location_id) == location_id, col(index.waiting))
            .where(col(index.birth_month) >= born_from, col(index.birth_month) <= born_to)
            .order_by(*order).offset(offset).limit(limit)
        )
        return [self._known_as(record) for record in rows.scalars()]

    async def candidates_born_at(self, reads: Sequence[CandidateRead]
                                 ) -> list[list[WaitingRequest]]:
        # One statement, the same for any number of reads (so compiled and prepared once:
        # a UNION of a branch per read cost ~0.7 ms a branch to build and compile): per
        # read, down its location's index in its own order (each read's rows are put in
        # that order again here: SQL keeps none across a join).
        if not reads:
            return []
        await self._session.flush()  # (a Core read: the session's writes first)
        rows = (await self._session.execute(CANDIDATES_BORN_AT, {
            "location_ids": [read.location_id for read in reads],
            "born_from": [read.born_from for read in reads],
            "born_to": [read.born_to for read in reads],
            "priority_first": [read.priority_first for read in reads],
            "limits": [read.limit for read in reads],
        })).mappings().all()
        found: list[list[tuple[tuple[bool, str], WaitingRequest]]] = [[] for _ in reads]
        for row in rows:
            known = self._known.get(row["request_id"])
            if known is None:
                # (from a dict: pydantic reads a generic mapping ~40% slower)
                known = self._known[row["request_id"]] = WaitingRequest.model_validate(
                    dict(row))
            nth = row["nth"] - 1  # WITH ORDINALITY counts from 1
            first = reads[nth].priority_first and not row["in_group"]
            found[nth].append(((first, row["by_key"]), known))
        return [[request for _, request in sorted(each, key=lambda pair: pair[0])]
                for each in found]

    async def lock_many(self, request_ids: Sequence[str]) -> dict[str, WaitingRequest]:
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .where(col(WaitingRequestRecord.request_id).in_(request_ids))
            .order_by(col(WaitingRequestRecord.request_id))  # one lock order: no deadlock
            .with_for_update().execution_options(populate_existing=True))
        return {record.request_id: self._fresh(record) for record in rows.scalars()}

    async def save_many(self, changes: Sequence[tuple[WaitingRequest, Mapping[str, CandidateKey]]]
                        ) -> None:
        # The requests in one UPDATE run over many parameter sets (through the ORM's
        # flush, rows whose changed columns differ took one statement each); the
        # session's own records (read by `lock_many`) take the values as committed, so
        # what the rest of the transaction reads stays true. The index rows go through
        # the flush: their changes share a shape (where the request waits).
        ids = [request.request_id for request, _ in changes]
        records = {record.request_id: record for record in (await self._session.execute(
            select(WaitingRequestRecord)
            .where(col(WaitingRequestRecord.request_id).in_(ids)))).scalars()}
        index_rows: dict[str, dict[str, RequestLocationRecord]] = {id_: {} for id_ in ids}
        for row in (await self._session.execute(select(RequestLocationRecord).where(
                col(RequestLocationRecord.request_id).in_(ids)))).scalars():
            index_rows[row.request_id][row.location_id] = row
        changed: list[dict[str, Any]] = []
        for request, keys in changes:
            self._known[request.request_id] = request
            record = records[request.request_id]
            values = plain_row(request)
            if any(getattr(record, name) != value for name, value in values.items()):
                changed.append(values)
                for name, value in values.items():
                    set_committed_value(record, name, value)
            stored_rows = index_rows[request.request_id]
            wanted = {values["location_id"]: values
                      for values in self._index_values(request, keys)}
            for location_id in stored_rows.keys() - wanted.keys():
                await self._session.delete(stored_rows[location_id])
            for location_id, fresh in wanted.items():
                stored_row = stored_rows.get(location_id)
                if stored_row is None:
                    self._session.add(RequestLocationRecord(**fresh))
                    continue
                for name in ("rank", "birth_month", "waiting", "sort_key", "priority_group"):
                    if getattr(stored_row, name) != fresh[name]:
                        setattr(stored_row, name, fresh[name])
        await update_rows(self._session, table_of(WaitingRequestRecord), "request_id", changed)
        await self._session.flush()

    async def waiting_in_area(self, service_area: str, *, after: str = "",
                              limit: int = 1000) -> list[WaitingRequest]:
        """Requests of the area that still wait somewhere, by request id, a page at a time."""
        waiting = select(col(RequestLocationRecord.request_id)).where(
            col(RequestLocationRecord.waiting))
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .where(col(WaitingRequestRecord.service_area) == service_area)
            .where(col(WaitingRequestRecord.request_id) > after)
            .where(col(WaitingRequestRecord.request_id).in_(waiting))
            .order_by(col(WaitingRequestRecord.request_id)).limit(limit))
        return [self._known_as(record) for record in rows.scalars()]

    async def rekey(self, request_id: str, keys: Mapping[str, CandidateKey]) -> None:
        for location_id, key in keys.items():
            await self._session.execute(
                update(RequestLocationRecord)
                .where(col(RequestLocationRecord.request_id) == request_id,
                       col(RequestLocationRecord.location_id) == location_id)
                .values(sort_key=key.sort_key, priority_group=key.priority_group))

    async def choosing(self, location_id: str) -> list[WaitingRequest]:
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .join(RequestLocationRecord, col(RequestLocationRecord.request_id)
                  == col(WaitingRequestRecord.request_id))
            .where(col(RequestLocationRecord.location_id) == location_id))
        return [self._known_as(record) for record in rows.scalars()]

    async def count_by_status(self, service_area: str) -> dict[RequestStatus, int]:
        status = col(WaitingRequestRecord.status)
        rows = await self._session.execute(
            select(status, func.count())
            .where(col(WaitingRequestRecord.service_area) == service_area).group_by(status))
        return {RequestStatus(found): count for found, count in rows.all()}

    async def urgent_without_offer(self, service_area: str) -> list[WaitingRequest]:
        rows = await self._session.execute(
            select(WaitingRequestRecord)
            .where(col(WaitingRequestRecord.service_area) == service_area)
            .where(col(WaitingRequestRecord.status) == RequestStatus.WAITING)
            .where(col(WaitingRequestRecord.urgency).in_(("urgent", "crisis")))
            .order_by(col(WaitingRequestRecord.submitted_at),
                      col(WaitingRequestRecord.request_id)))
        return [self._known_as(record) for record in rows.scalars()]


class SqlPlaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, place_id: str) -> FreePlace | None:
        record = await self._session.get(PlaceRecord, place_id, with_for_update=True)
        return FreePlace.model_validate(record, from_attributes=True) if record else None

    async def add(self, place: FreePlace) -> None:
        self._session.add(PlaceRecord.model_validate(place, from_attributes=True))

    async def add_all(self, places: Sequence[FreePlace]) -> None:
        # The places' own values as rows (the record has the same fields): a record built
        # per place cost ~0.2 ms, more than its share of the statement.
        await insert_rows(self._session, table_of(PlaceRecord),
                          [plain_row(place) for place in places])

    async def known_among(self, place_ids: Sequence[str]) -> set[str]:
        rows = await self._session.execute(
            select(col(PlaceRecord.place_id)).where(col(PlaceRecord.place_id).in_(place_ids)))
        return set(rows.scalars())

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

    async def open_in_area(self, service_area: str, first: date, last: date
                           ) -> list[FreePlace]:
        rows = await self._session.execute(
            select(PlaceRecord)
            .where(col(PlaceRecord.service_area) == service_area)
            .where(col(PlaceRecord.status) == PlaceStatus.OPEN)
            .where(col(PlaceRecord.available_from) >= first)
            .where(col(PlaceRecord.available_from) <= last)
            .order_by(col(PlaceRecord.available_from), col(PlaceRecord.place_id)))
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

    @staticmethod
    def _match(record: MatchRecord) -> Match:
        return Match.model_validate(record, from_attributes=True)

    async def _many(self, statement: Select[MatchRecord]) -> list[Match]:
        rows = await self._session.execute(statement)
        return [self._match(record) for record in rows.scalars()]

    async def add(self, match: Match) -> None:
        await self.add_all([match])

    async def add_all(self, matches: Sequence[Match]) -> None:
        # One INSERT run over many parameter sets, sent now: the unique index (one live
        # offer per place) speaks here, not at commit.
        await insert_rows(self._session, table_of(MatchRecord),
                          [match.model_dump() for match in matches])

    async def get(self, match_id: str) -> Match | None:
        record = await self._session.get(MatchRecord, match_id, with_for_update=True,
                                         populate_existing=True)
        return self._match(record) if record else None

    async def of_request(self, request_id: str, statuses: Set[MatchStatus]) -> list[Match]:
        return await self._many(
            select(MatchRecord)
            .where(col(MatchRecord.request_id) == request_id)
            .where(col(MatchRecord.status).in_(list(statuses)))
            .order_by(col(MatchRecord.proposed_at), col(MatchRecord.match_id)))

    async def of_requests(self, request_ids: Sequence[str], statuses: Set[MatchStatus]
                          ) -> dict[str, list[Match]]:
        found: dict[str, list[Match]] = {request_id: [] for request_id in request_ids}
        for match in await self._many(
                select(MatchRecord)
                .where(col(MatchRecord.request_id).in_(request_ids))
                .where(col(MatchRecord.status).in_(list(statuses)))
                .order_by(col(MatchRecord.proposed_at), col(MatchRecord.match_id))):
            found[match.request_id].append(match)
        return found

    async def live_at(self, location_id: str) -> list[Match]:
        return await self._many(
            select(MatchRecord)
            .where(col(MatchRecord.location_id) == location_id)
            .where(col(MatchRecord.status).in_(list(LIVE)))
            .order_by(col(MatchRecord.proposed_at), col(MatchRecord.match_id)))

    async def live_of_place(self, place_id: str) -> Match | None:
        found = await self._many(
            select(MatchRecord)
            .where(col(MatchRecord.place_id) == place_id)
            .where(col(MatchRecord.status).in_(list(LIVE))))
        return found[0] if found else None

    async def transition(
        self, match_id: str, from_statuses: Set[MatchStatus], to: MatchStatus,
        *, keep_waiting: bool | None = None,
    ) -> Match | None:
        values: dict[str, object] = {"status": to}
        if keep_waiting is not None:
            values["keep_waiting"] = keep_waiting
        record = (await self._session.execute(
            update(MatchRecord)
            .where(col(MatchRecord.match_id) == match_id)
            .where(col(MatchRecord.status).in_(list(from_statuses)))
            .values(**values)
            .returning(MatchRecord)
            .execution_options(populate_existing=True)
        )).scalars().first()
        return self._match(record) if record else None

    async def mark_reminded(self, match_id: str, addressee: Addressee, at: datetime) -> bool:
        column = (MatchRecord.family_reminded_at if addressee == "family"
                  else MatchRecord.organiser_reminded_at)
        result = await self._session.execute(
            update(MatchRecord)
            .where(col(MatchRecord.match_id) == match_id, col(column).is_(None))
            .values({column: at})
            .returning(col(MatchRecord.match_id)))
        return result.first() is not None

    async def claim_due(self, now: datetime, limit: int) -> list[Match]:
        proposed = col(MatchRecord.status) == MatchStatus.PROPOSED
        family = and_(proposed, or_(
            col(MatchRecord.family_answer_due) <= now,
            and_(col(MatchRecord.family_reminded_at).is_(None),
                 col(MatchRecord.family_reminder_due) <= now)))
        organiser = and_(col(MatchRecord.status).in_(list(LIVE)),
                         col(MatchRecord.organiser_reminded_at).is_(None),
                         col(MatchRecord.organiser_answer_due) <= now)
        return await self._many(
            select(MatchRecord)
            .where(or_(family, organiser))
            .order_by(col(MatchRecord.family_answer_due), col(MatchRecord.match_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True))

    async def organiser_overdue(self, service_area: str, now: datetime) -> list[Match]:
        return await self._many(
            select(MatchRecord)
            .where(col(MatchRecord.service_area) == service_area)
            .where(col(MatchRecord.status).in_(list(LIVE)))
            .where(col(MatchRecord.organiser_answer_due) <= now)
            .order_by(col(MatchRecord.organiser_answer_due), col(MatchRecord.match_id)))


class SqlClosureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def is_closed(self, location_id: str) -> bool:
        return await self._session.get(ClosedLocationRecord, location_id) is not None

    async def closed_among(self, location_ids: Set[str]) -> set[str]:
        rows = await self._session.execute(
            select(col(ClosedLocationRecord.location_id))
            .where(col(ClosedLocationRecord.location_id).in_(sorted(location_ids))))
        return set(rows.scalars())

    async def close(self, location_id: str, closed_at: datetime) -> None:
        await self._session.merge(ClosedLocationRecord(location_id=location_id,
                                                       closed_at=closed_at))


class SqlLocationRepository:
    """Lives for one transaction: locations read are kept (a batch of places at one
    location counts its children once), and forgotten when this repository changes
    them. Only this repository writes locations and enrolments."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._read: dict[str, KnownLocation] = {}

    async def register(self, location: KnownLocation) -> None:
        self._read.pop(location.location_id, None)
        await self._session.merge(LocationRecord(
            location_id=location.location_id, municipality_nis=location.municipality_nis,
            subsidy_tier=location.subsidy_tier))

    async def get_many(self, location_ids: Sequence[str]) -> dict[str, KnownLocation]:
        """The locations with their children counted; one not announced yet is a
        basic-tier location without children."""
        wanted = list(dict.fromkeys(location_ids))
        missing = [location_id for location_id in wanted if location_id not in self._read]
        if missing:
            self._read.update(await self._read_many(missing))
        return {location_id: self._read[location_id] for location_id in wanted}

    async def _read_many(self, ids: list[str]) -> dict[str, KnownLocation]:
        known = {
            record.location_id: record for record in (await self._session.execute(
                select(LocationRecord).where(col(LocationRecord.location_id).in_(ids))
            )).scalars()}
        counts = {
            location_id: (total, priority) for location_id, total, priority in (
                await self._session.execute(
                    select(col(EnrolmentRecord.location_id), func.count(),
                           func.count().filter(col(EnrolmentRecord.priority_group)))
                    .where(col(EnrolmentRecord.location_id).in_(ids))
                    .group_by(col(EnrolmentRecord.location_id)))).all()}
        found: dict[str, KnownLocation] = {}
        for location_id in ids:
            record = known.get(location_id)
            total, priority = counts.get(location_id, (0, 0))
            found[location_id] = KnownLocation(
                location_id=location_id,
                municipality_nis=record.municipality_nis if record else "",
                subsidy_tier=cast(SubsidyTier, record.subsidy_tier) if record else "basic",
                enrolled=total, priority_enrolled=priority)
        return found

    async def enrol(self, enrolment_id: str, location_id: str, priority_group: bool) -> None:
        # The child may move here from another location: both count it anew. (The
        # merge below finds the record this read keeps: no second read.)
        before = await self._session.get(EnrolmentRecord, enrolment_id)
        self._forget(location_id, *([before.location_id] if before else []))
        await self._session.merge(EnrolmentRecord(
            enrolment_id=enrolment_id, location_id=location_id,
            priority_group=priority_group, declared=False))

    async def replace_declared(self, location_id: str,
                               enrolments: Sequence[tuple[str, bool]]) -> None:
        """Writes the difference: a declaration names every child at the location, and
        mostly the same children as the one before. A child the loket placed here
        becomes declared; one declared here may come from another location, which then
        counts it anew too."""
        declared = dict(enrolments)
        stored = {row.enrolment_id: row for row in (await self._session.execute(
            select(col(EnrolmentRecord.enrolment_id), col(EnrolmentRecord.location_id),
                   col(EnrolmentRecord.priority_group), col(EnrolmentRecord.declared))
            .where(or_(col(EnrolmentRecord.location_id) == location_id,
                       col(EnrolmentRecord.enrolment_id).in_(list(declared)))))).all()}
        gone = sorted(enrolment_id for enrolment_id, row in stored.items()
                      if row.location_id == location_id and row.declared
                      and enrolment_id not in declared)
        rows = [{"enrolment_id": enrolment_id, "location_id": location_id,
                 "priority_group": priority_group, "declared": True}
                for enrolment_id, priority_group in declared.items()
                if (row := stored.get(enrolment_id)) is None
                or (row.location_id, row.priority_group, row.declared)
                != (location_id, priority_group, True)]
        if not gone and not rows:
            return
        self._forget(location_id, *(stored[row["enrolment_id"]].location_id
                                    for row in rows if row["enrolment_id"] in stored))
        if gone:
            await self._session.execute(
                delete(EnrolmentRecord).where(col(EnrolmentRecord.enrolment_id).in_(gone)))
        if rows:
            upsert = insert(table_of(EnrolmentRecord))  # the table: no ORM bulk grouping
            await self._session.execute(upsert.on_conflict_do_update(
                index_elements=[col(EnrolmentRecord.enrolment_id)],
                set_={"location_id": upsert.excluded.location_id,
                      "priority_group": upsert.excluded.priority_group, "declared": True}),
                rows)
        # Written past the session: a record it holds (from `enrol`) is read again.
        expire_held(self._session, EnrolmentRecord,
                    [*gone, *(row["enrolment_id"] for row in rows)])

    async def end_enrolment(self, enrolment_id: str) -> None:
        ended = await self._session.execute(
            delete(EnrolmentRecord).where(col(EnrolmentRecord.enrolment_id) == enrolment_id)
            .returning(col(EnrolmentRecord.location_id), col(EnrolmentRecord.priority_group)))
        # Counted down where read, not read again: a year's ended enrolments come between
        # the places freed at their locations.
        for location_id, priority_group in ended.all():
            read = self._read.get(location_id)
            if read is not None:
                self._read[location_id] = read.model_copy(update={
                    "enrolled": read.enrolled - 1,
                    "priority_enrolled": read.priority_enrolled - int(priority_group)})

    def _forget(self, *location_ids: str) -> None:
        for location_id in location_ids:
            self._read.pop(location_id, None)


# Per database: the areas seen with a basis committed (it is replaced, never removed).
_RECORDED: WeakKeyDictionary[object, set[str]] = WeakKeyDictionary()


class SqlRankingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._keyed: set[str] = set()  # areas whose basis this unit made sure of
        self._recorded = (set() if session.bind is None
                          else _RECORDED.setdefault(session.bind, set()))

    async def keyed_under(self, service_area: str, basis: str, at: datetime) -> None:
        if service_area in self._keyed or service_area in self._recorded:
            return
        self._keyed.add(service_area)
        inserted = await self._session.scalar(
            insert(table_of(AreaRankingRecord))
            .values(service_area=service_area, basis=basis, computed_at=at)
            .on_conflict_do_nothing(index_elements=[col(AreaRankingRecord.service_area)])
            .returning(col(AreaRankingRecord.service_area)))
        if inserted is None:  # another transaction's, committed: no need to ask again
            self._recorded.add(service_area)

    async def basis(self, service_area: str) -> str | None:
        record = await self._session.get(AreaRankingRecord, service_area,
                                         with_for_update=True)
        return record.basis if record else None

    async def set_basis(self, service_area: str, basis: str, at: datetime) -> None:
        # An upsert: an area's first requests may record their basis meanwhile.
        upsert = insert(table_of(AreaRankingRecord)).values(
            service_area=service_area, basis=basis, computed_at=at)
        await self._session.execute(upsert.on_conflict_do_update(
            index_elements=[col(AreaRankingRecord.service_area)],
            set_={"basis": basis, "computed_at": at}))

    async def areas(self) -> list[str]:
        rows = await self._session.execute(
            select(col(WaitingRequestRecord.service_area)).distinct())
        return list(rows.scalars())


class SqlRoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, found: AllocationRound) -> None:
        self._session.add(RoundRecord.model_validate(found, from_attributes=True))

    async def get(self, round_id: str) -> AllocationRound | None:
        record = await self._session.get(RoundRecord, round_id, with_for_update=True)
        return AllocationRound.model_validate(record, from_attributes=True) if record else None

    async def save(self, found: AllocationRound) -> None:
        await self._session.merge(RoundRecord.model_validate(found, from_attributes=True))

    async def of_area(self, service_area: str) -> list[AllocationRound]:
        rows = await self._session.execute(
            select(RoundRecord).where(col(RoundRecord.service_area) == service_area)
            .order_by(col(RoundRecord.run_at).desc()))
        return [AllocationRound.model_validate(record, from_attributes=True)
                for record in rows.scalars()]
