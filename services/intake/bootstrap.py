"""Composition root: intake's handlers, routes and adapters, wired by loketkit.

Tests pass a fake `uow_factory` (and a recording dead-letter sink, a fixed clock
and ids) and get the real app without PostgreSQL or Kafka.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from contracts.topics import CAPACITY, MATCHES
from loketkit.area_settings import area_settings_router
from loketkit.consumer import DeadLetterSink
from loketkit.ids import Clock, IdFactory, new_id, utcnow
from loketkit.service import assemble
from services.intake.adapters.postcodes import postcode_coordinates
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.domain.area_settings import RequestSettings
from services.intake.domain.model import child_reference
from services.intake.entrypoints import imports
from services.intake.entrypoints.access import RegistrationLimit
from services.intake.entrypoints.http import router
from services.intake.entrypoints.pages import PAGES, family, staff
from services.intake.handlers import (
    COMMAND_HANDLERS,
    EVENT_BATCH_HANDLERS,
    EVENT_HANDLERS,
    JOBS,
)
from services.intake.ports import IntakeUnitOfWork
from services.intake.settings import DEVELOPMENT_KEY, IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def bootstrap(
    settings: IntakeSettings | None = None,
    *,
    uow_factory: Callable[[], IntakeUnitOfWork] | None = None,
    dead_letters: DeadLetterSink | None = None,
    clock: Clock = utcnow,
    id_factory: IdFactory = new_id,
) -> FastAPI:
    settings = settings or IntakeSettings()
    key = settings.child_ref_key.get_secret_value()
    if key == DEVELOPMENT_KEY:
        log.warning("CHILD_REF_KEY is the development key: set a secret one outside local runs")
    app = assemble(
        settings,
        title="Loket Kinderopvang: intake",
        description="Childcare requests from parents, loket staff and municipal systems.",
        migrations_dir=MIGRATIONS,
        sql_uow=SqlIntakeUnitOfWork,
        command_handlers=COMMAND_HANDLERS,
        event_handlers=EVENT_HANDLERS,
        event_batch_handlers=EVENT_BATCH_HANDLERS,
        input_topics=[CAPACITY, MATCHES],
        pages=PAGES,
        routers=[router, family.router, staff.router,
                 area_settings_router(RequestSettings, "settings")],
        dependencies={
            "child_ref": functools.partial(child_reference, key.encode()),
            "postcode_coordinates": postcode_coordinates(),
        },
        uow_factory=uow_factory,
        dead_letters=dead_letters,
        clock=clock,
        id_factory=id_factory,
        jobs=JOBS,
        body_limits={"/imports": imports.MAX_BYTES},
    )
    app.state.registration_limit = RegistrationLimit(settings.anonymous_registrations_per_minute)
    return app
