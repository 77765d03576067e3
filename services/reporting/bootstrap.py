"""Composition root: wires settings, database, Kafka and handlers into the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from contracts.topics import CAPACITY, MATCHES, REQUESTS
from loketkit.service import Infrastructure, create_app
from services.reporting import handlers
from services.reporting.adapters.reference import load_municipalities
from services.reporting.adapters.uow import ReportingUnitOfWork
from services.reporting.domain.model import Municipality
from services.reporting.settings import ReportingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class ReportingContext:
    """What the HTTP routes need, injected through app.state."""

    settings: ReportingSettings
    infra: Infrastructure
    municipalities: dict[str, Municipality] = field(default_factory=load_municipalities)

    def uow(self) -> ReportingUnitOfWork:
        return ReportingUnitOfWork(self.infra.session_factory)


def bootstrap(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    infra = Infrastructure.from_settings(settings)
    context = ReportingContext(settings, infra)
    # Reporting only consumes, and only validated facts: not capacity's inbound topic.
    infra.consume(
        [REQUESTS, CAPACITY, MATCHES],
        handlers.EVENT_HANDLERS,
        context.uow,
    )
    app = create_app(
        infra,
        MIGRATIONS,
        title="Loket Kinderopvang: reporting",
        description="Registration figures and shortages per municipality, rebuilt from the log.",
    )
    app.state.context = context
    from services.reporting.entrypoints.http import router

    app.include_router(router)
    return app
