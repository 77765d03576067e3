"""The real capacity app over in-memory fakes: a fixed clock, predictable ids, no
PostgreSQL and no Kafka."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import MatchAccepted, MatchProposed
from contracts.schedule import FULL_WEEK
from loketkit.auth import Caller, Role
from loketkit.testing import ActingBus, RecordingDeadLetters
from services.capacity.bootstrap import bootstrap
from services.capacity.settings import CapacitySettings
from tests.personas import CAPACITY_USERS, signed_in
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

ORGANISER = Caller("organiser-zonneke", frozenset({Role.ORGANISER}), organiser_id="org-zonneke")
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
def bus(app: FastAPI) -> ActingBus:
    """The app's command bus, acting as the organiser that runs the test locations."""
    return ActingBus(app.state.context.bus, ORGANISER)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://capacity",
                                 auth=signed_in(app, CAPACITY_USERS)) as client:
        yield client


def proposal(
    match_id: str = "match-1", place_id: str = "place-1", request_id: str = "req-1",
    location_id: str = "loc-a", **changes: object,
) -> MatchProposed:
    """An offer as matching publishes it (pseudonymous)."""
    facts: dict[str, object] = {
        "service_area": "kempen-gml", "match_id": match_id, "request_id": request_id,
        "place_id": place_id, "location_id": location_id,
        "location_municipality_nis": "13008", "request_municipality_nis": "13008",
        "urgency": "normal", "ordering": "first in line", "start_date": NEXT_MONTH,
        "day_parts": list(FULL_WEEK), "requested_day_parts": ["mon_am", "mon_pm", "tue_am"],
        "family_answer_due": NOW + timedelta(days=7),
        "organiser_answer_due": NOW + timedelta(days=14), "proposed_at": NOW,
    }
    return MatchProposed.model_validate(facts | changes)


def acceptance(offer: MatchProposed, keep_waiting: bool = False) -> MatchAccepted:
    return MatchAccepted(
        service_area=offer.service_area, match_id=offer.match_id, request_id=offer.request_id,
        place_id=offer.place_id, location_id=offer.location_id, municipality_nis="13008",
        keep_waiting_for_higher_choices=keep_waiting, accepted_at=NOW,
    )
