"""Matching's database for the benchmarks: the local PostgreSQL, a database
`matching_handlers_bench` migrated as in production, emptied and filled in bulk.

Seeding goes around the repositories on purpose: SQLAlchemy core `insert()` with
many rows per statement, in batches, with the candidate keys computed by the same
`Ranking.candidate_key` the handlers use, so 100,000 requests take seconds, not
the minutes one unit of work per request would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from enum import Enum
from itertools import islice
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit import migrations
from loketkit.db import make_engine, make_session_factory
from services.matching.adapters.orm import (
    EnrolmentRecord,
    LocationRecord,
    MatchingTable,
    PlaceRecord,
    RequestLocationRecord,
    WaitingRequestRecord,
)
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.ranking import Ranking
from tools.bench.area import Area
from tools.infra.postgres import create_database, ensure_postgres

DATABASE = "matching_handlers_bench"
BATCH = 5000
EMPTIED = ("requests", "request_locations", "places", "matches", "closed_locations", "locations",
           "enrolments", "area_rankings", "rounds", "outbox", "processed_events")


@asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], str]]:
    """Sessions on the migrated benchmark database, and the server's version."""
    admin_url = await asyncio.to_thread(ensure_postgres)
    url = await create_database(admin_url, DATABASE)
    await migrations.upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session:
            version = str((await session.execute(text("SHOW server_version"))).scalar_one())
        yield sessions, version
    finally:
        await engine.dispose()


async def empty(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Matching's tables and the delivery tables it writes, emptied (the audit trail is
    append-only, and the benchmarks write none)."""
    async with sessions() as session, session.begin():
        await session.execute(text(f"TRUNCATE {', '.join(EMPTIED)}"))


def _table(record: type[MatchingTable], name: str) -> Table:
    table = record.metadata.tables[name]
    return table


def _row(model: BaseModel) -> dict[str, Any]:
    """A domain model as a row of its record's table (the fields are the columns)."""
    return {name: list(value) if isinstance(value, tuple)
            else value.value if isinstance(value, Enum) else value
            for name, value in model.model_dump().items()}


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


async def _insert(sessions: async_sessionmaker[AsyncSession], table: Table,
                  rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    async with sessions() as session, session.begin():
        for batch in _batches(rows):
            await session.execute(insert(table), batch)
            count += len(batch)
    return count


def _index_rows(area: Area, ranking: Ranking) -> Iterator[dict[str, Any]]:
    """The candidate index, as `SqlRequestRepository.add` writes it."""
    locations = area.locations
    for request in area.requests:
        for rank, location_id in enumerate(request.preferred_location_ids):
            key = ranking.candidate_key(request, locations[location_id])
            yield {"request_id": request.request_id, "location_id": location_id,
                   "rank": rank, "birth_month": request.birth_month,
                   "waiting": request.waits_at(location_id), "sort_key": key.sort_key,
                   "priority_group": key.priority_group}


async def seed(sessions: async_sessionmaker[AsyncSession], area: Area, ranking: Ranking,
               *, with_places: bool = True) -> Mapping[str, int]:
    """The area's locations (tier, children), requests with their candidate index, and
    (optionally) its free places; then ANALYZE, as autovacuum would after a while."""
    enrolments = ({"enrolment_id": f"{site.location.location_id}-e{n:03d}",
                   "location_id": site.location.location_id,
                   "priority_group": n < site.location.priority_enrolled, "declared": True}
                  for site in area.sites for n in range(site.location.enrolled))
    counts = {
        "locations": await _insert(sessions, _table(LocationRecord, "locations"), (
            {"location_id": site.location.location_id,
             "municipality_nis": site.location.municipality_nis,
             "subsidy_tier": site.location.subsidy_tier} for site in area.sites)),
        "enrolments": await _insert(sessions, _table(EnrolmentRecord, "enrolments"),
                                    enrolments),
        "requests": await _insert(sessions, _table(WaitingRequestRecord, "requests"),
                                  (_row(request) for request in area.requests)),
        "index rows": await _insert(sessions, _table(RequestLocationRecord,
                                                     "request_locations"),
                                    _index_rows(area, ranking)),
        "places": await _insert(sessions, _table(PlaceRecord, "places"),
                                (_row(place) for place in area.places) if with_places else ()),
    }
    async with sessions() as session, session.begin():
        await session.execute(text("ANALYZE"))
    return counts
