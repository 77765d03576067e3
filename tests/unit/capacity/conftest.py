"""The real capacity app over in-memory fakes: a fixed clock, predictable ids, no
PostgreSQL and no Kafka."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from loketkit.bus import CommandBus
from loketkit.testing import RecordingDeadLetters
from services.capacity.bootstrap import bootstrap
from services.capacity.settings import CapacitySettings
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

NOW = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
NEXT_MONTH = TODAY + timedelta(days=30)


class CountingIds:
    """`loc-1`, `place-2`, ...: ids a test can predict."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}-{next(self._numbers)}"


@pytest.fixture
def uow() -> FakeCapacityUnitOfWork:
    return FakeCapacityUnitOfWork()


@pytest.fixture
def dead_letters() -> RecordingDeadLetters:
    return RecordingDeadLetters()


@pytest.fixture
def app(uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters) -> FastAPI:
    return bootstrap(
        CapacitySettings(handler_backoff_seconds=0),
        uow_factory=lambda: uow,
        dead_letters=dead_letters,
        clock=lambda: NOW,
        id_factory=CountingIds(),
    )


@pytest.fixture
def bus(app: FastAPI) -> CommandBus:
    bus: CommandBus = app.state.context.bus
    return bus


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://capacity") as client:
        yield client
