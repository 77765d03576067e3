"""Composition root: wires settings, database, Kafka and handlers into the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from contracts.events import PlaceFreed
from contracts.topics import CAPACITY_INBOUND
from loketkit.service import Infrastructure, create_app
from services.capacity import handlers
from services.capacity.adapters.uow import CapacityUnitOfWork
from services.capacity.settings import CapacitySettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class CapacityContext:
    """What the HTTP routes need, injected through app.state."""

    settings: CapacitySettings
    infra: Infrastructure

    def uow(self) -> CapacityUnitOfWork:
        return CapacityUnitOfWork(self.infra.session_factory)

    def events_committed(self) -> None:
        self.infra.relay.wake()


def bootstrap(settings: CapacitySettings | None = None) -> FastAPI:
    settings = settings or CapacitySettings()
    infra = Infrastructure.from_settings(settings)
    context = CapacityContext(settings, infra)
    infra.consume([CAPACITY_INBOUND], {PlaceFreed: handlers.on_inbound_place_freed}, context.uow)
    app = create_app(
        infra,
        MIGRATIONS,
        title="Loket Kinderopvang: capacity",
        description="Locations, free places and closures from organisers and Opgroeien.",
    )
    app.state.context = context
    from services.capacity.entrypoints.http import router

    app.include_router(router)
    return app
