from __future__ import annotations

import pytest

from tests.unit.matching.harness import Matching


@pytest.fixture
def matching() -> Matching:
    return Matching()
