"""Composition root: matching's handlers, storage and routes, assembled into one app.

Jobs: "deadlines" fires the offers' answer deadlines and reminders (see handlers).
Give `uow_factory` (a fake) and `dead_letters` to run it without PostgreSQL or
Kafka; `clock` and `id_factory` fix the timestamps and ids handlers make.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.topics import CAPACITY, REQUESTS
from loketkit.area_settings import area_settings_router
from loketkit.consumer import DeadLetterSink
from loketkit.ids import Clock, IdFactory, new_id, utcnow
from loketkit.service import assemble
from services.matching.adapters.uow import SqlMatchingUnitOfWork
from services.matching.bursts import EVENT_BATCH_HANDLERS
from services.matching.domain.area_settings import OfferSettings
from services.matching.entrypoints.http import router
from services.matching.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, JOBS
from services.matching.ports import MatchingUnitOfWork
from services.matching.settings import MatchingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def sql_unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], on_commit: Callable[[], None]
) -> MatchingUnitOfWork:
    """Production's unit of work; typed here so mypy checks it against the ports."""
    return SqlMatchingUnitOfWork(session_factory, on_commit)


def bootstrap(
    settings: MatchingSettings | None = None,
    *,
    uow_factory: Callable[[], MatchingUnitOfWork] | None = None,
    dead_letters: DeadLetterSink | None = None,
    clock: Clock = utcnow,
    id_factory: IdFactory = new_id,
) -> FastAPI:
    return assemble(
        settings or MatchingSettings(),
        title="Loket Kinderopvang: matching",
        description="Proposes free places to waiting requests under the priority rules.",
        migrations_dir=MIGRATIONS,
        sql_uow=sql_unit_of_work,
        command_handlers=COMMAND_HANDLERS,
        event_handlers=EVENT_HANDLERS,
        event_batch_handlers=EVENT_BATCH_HANDLERS,
        input_topics=[REQUESTS, CAPACITY],
        routers=[router, area_settings_router(OfferSettings, "offer settings")],
        uow_factory=uow_factory,
        dead_letters=dead_letters,
        clock=clock,
        id_factory=id_factory,
        jobs=JOBS,
    )

