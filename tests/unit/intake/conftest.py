"""The real intake app over in-memory fakes: fixed clock, counted ids, recorded dead letters."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import httpx
import pytest

from loketkit.testing import RecordingDeadLetters
from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from tests.personas import INTAKE_USERS, signed_in
from tests.unit.intake.fakes import FakeIntakeUnitOfWork
from tests.unit.intake.harness import Clock, Intake


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    uow = FakeIntakeUnitOfWork()
    dead_letters = RecordingDeadLetters()
    counters: dict[str, itertools.count[int]] = {}
    clock = Clock()

    def new_id(prefix: str) -> str:
        return f"{prefix}-{next(counters.setdefault(prefix, itertools.count(1)))}"

    app = bootstrap(IntakeSettings(), uow_factory=lambda: uow, dead_letters=dead_letters,
                    clock=clock, id_factory=new_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                 auth=signed_in(app, INTAKE_USERS)) as client:
        yield Intake(app, client, uow, dead_letters, clock)
