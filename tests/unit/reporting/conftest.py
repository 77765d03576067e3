from __future__ import annotations

import pytest

from tests.unit.reporting.harness import InMemoryReporting


@pytest.fixture
def reporting() -> InMemoryReporting:
    return InMemoryReporting()
