"""Composition root: reporting's handlers, routes and reference data, assembled
over PostgreSQL and Kafka, or over whatever a test passes in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from fastapi import FastAPI

from contracts.topics import CAPACITY, MATCHES, REQUESTS
from loketkit.consumer import DeadLetterSink
from loketkit.ids import Clock, IdFactory, new_id, utcnow
from loketkit.service import assemble
from services.reporting import handlers
from services.reporting.adapters.reference import load_municipalities
from services.reporting.adapters.uow import SqlReportingUnitOfWork
from services.reporting.domain.model import Municipality
from services.reporting.entrypoints.deps import ReferenceData
from services.reporting.entrypoints.http import router
from services.reporting.entrypoints.page import PAGES
from services.reporting.ports import ReportingUnitOfWork
from services.reporting.settings import ReportingSettings

MIGRATIONS = Path(__file__).parent / "migrations"
# Only validated facts: capacity's inbound topic is capacity's to check.
INPUT_TOPICS = (REQUESTS, CAPACITY, MATCHES)


def bootstrap(
    settings: ReportingSettings | None = None,
    *,
    uow_factory: Callable[[], ReportingUnitOfWork] | None = None,
    dead_letters: DeadLetterSink | None = None,
    clock: Clock = utcnow,
    id_factory: IdFactory = new_id,
    municipalities: Mapping[str, Municipality] | None = None,
) -> FastAPI:
    settings = settings or ReportingSettings()
    app = assemble(
        settings,
        title="Loket Kinderopvang: reporting",
        description="Registration figures and shortages per municipality, rebuilt from the log.",
        migrations_dir=MIGRATIONS,
        sql_uow=SqlReportingUnitOfWork,
        command_handlers=handlers.COMMAND_HANDLERS,
        event_handlers=handlers.EVENT_HANDLERS,
        input_topics=INPUT_TOPICS,
        routers=[router],
        uow_factory=uow_factory,
        dead_letters=dead_letters,
        clock=clock,
        id_factory=id_factory,
        pages=PAGES,
    )
    app.state.reference = ReferenceData(
        municipalities if municipalities is not None else load_municipalities(), clock
    )
    return app
