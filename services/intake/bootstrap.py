"""Composition root: wires settings, database, Kafka and handlers into the app."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from contracts.events import CrisisClosure, LocationRegistered, MatchProposed
from contracts.topics import CAPACITY, MATCHES
from loketkit.service import Infrastructure, create_app
from services.intake import handlers
from services.intake.adapters.uow import IntakeUnitOfWork
from services.intake.domain.model import Child, child_reference
from services.intake.settings import DEVELOPMENT_KEY, IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class IntakeContext:
    """What the HTTP routes need, injected through app.state."""

    settings: IntakeSettings
    infra: Infrastructure

    def uow(self) -> IntakeUnitOfWork:
        return IntakeUnitOfWork(self.infra.session_factory)

    def child_ref(self, child: Child) -> str:
        return child_reference(self.settings.child_ref_key.get_secret_value().encode(), child)

    def events_committed(self) -> None:
        self.infra.relay.wake()


def bootstrap(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    if settings.child_ref_key.get_secret_value() == DEVELOPMENT_KEY:
        logging.getLogger(__name__).warning(
            "CHILD_REF_KEY is the development key: set a secret one outside local runs")
    infra = Infrastructure.from_settings(settings)
    context = IntakeContext(settings, infra)
    infra.consume(
        [CAPACITY, MATCHES],
        {
            LocationRegistered: handlers.on_location_registered,
            MatchProposed: handlers.on_match_proposed,
            CrisisClosure: functools.partial(
                handlers.on_crisis_closure, child_ref_for=context.child_ref
            ),
        },
        context.uow,
    )
    app = create_app(
        infra,
        MIGRATIONS,
        title="Loket Kinderopvang: intake",
        description="Childcare requests from parents, loket staff and municipal systems.",
    )
    app.state.context = context
    from services.intake.entrypoints.http import router

    app.include_router(router)
    return app
