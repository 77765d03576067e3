"""Composition root: capacity's handlers, topics, routes and unit of work, assembled.

Tests pass their own unit-of-work factory, dead-letter sink, clock and id
factory; production uses the defaults (PostgreSQL, Kafka, the wall clock, UUIDs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.topics import MATCHES, ORGANISER_INBOUND_TOPICS, REQUESTS
from loketkit.consumer import DeadLetterSink
from loketkit.ids import Clock, IdFactory, new_id, utcnow
from loketkit.service import assemble
from services.capacity.adapters.uow import SqlCapacityUnitOfWork
from services.capacity.entrypoints.http import router
from services.capacity.entrypoints.pages import PAGES, crisis, organiser
from services.capacity.handlers import (
    COMMAND_HANDLERS,
    EVENT_BATCH_HANDLERS,
    EVENT_HANDLERS,
    lock_named_locations,
)
from services.capacity.ports import CapacityUnitOfWork
from services.capacity.settings import CapacitySettings

MIGRATIONS = Path(__file__).parent / "migrations"


def sql_unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], on_commit: Callable[[], None]
) -> CapacityUnitOfWork:
    """The production unit of work (typed as the port, so mypy checks it fits)."""
    return SqlCapacityUnitOfWork(session_factory, on_commit)


def bootstrap(
    settings: CapacitySettings | None = None,
    *,
    uow_factory: Callable[[], CapacityUnitOfWork] | None = None,
    dead_letters: DeadLetterSink | None = None,
    clock: Clock = utcnow,
    id_factory: IdFactory = new_id,
) -> FastAPI:
    return assemble(
        settings or CapacitySettings(),
        title="Loket Kinderopvang: capacity",
        description="Locations, licences, free places, offers, enrolments and closures, for "
        "organisers and Opgroeien.",
        migrations_dir=MIGRATIONS,
        sql_uow=sql_unit_of_work,
        command_handlers=COMMAND_HANDLERS,
        event_handlers=EVENT_HANDLERS,
        event_batch_handlers=EVENT_BATCH_HANDLERS,
        event_read_ahead=lock_named_locations,
        # every organiser's own inbound topic, by pattern, besides the explicit topics
        input_topics=[ORGANISER_INBOUND_TOPICS, MATCHES, REQUESTS],
        pages=PAGES,
        routers=[router, organiser.router, crisis.router],
        uow_factory=uow_factory,
        dead_letters=dead_letters,
        clock=clock,
        id_factory=id_factory,
    )
