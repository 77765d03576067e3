"""The real intake app over in-memory fakes: fixed clock, counted ids, recorded dead letters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.intake.harness import Intake, new_intake


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    async with new_intake() as made:
        yield made
