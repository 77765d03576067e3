"""Composition root: wires settings, database, Kafka and handlers into the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from contracts.events import CrisisClosure, PlaceFreed, RequestSubmitted, RequestWithdrawn
from contracts.topics import CAPACITY, REQUESTS
from loketkit.service import Infrastructure, create_app
from services.matching import handlers
from services.matching.adapters.uow import MatchingUnitOfWork
from services.matching.settings import MatchingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def bootstrap(settings: MatchingSettings | None = None) -> FastAPI:
    settings = settings or MatchingSettings()
    infra = Infrastructure.from_settings(settings)
    infra.consume(
        [REQUESTS, CAPACITY],
        {
            RequestSubmitted: handlers.on_request_submitted,
            RequestWithdrawn: handlers.on_request_withdrawn,
            PlaceFreed: handlers.on_place_freed,
            CrisisClosure: handlers.on_crisis_closure,
        },
        lambda: MatchingUnitOfWork(infra.session_factory),
    )
    app = create_app(
        infra,
        MIGRATIONS,
        title="Loket Kinderopvang: matching",
        description="Proposes free places to waiting requests under the priority rules.",
    )
    app.state.session_factory = infra.session_factory
    from services.matching.entrypoints.http import router

    app.include_router(router)
    return app
