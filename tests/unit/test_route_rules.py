"""Every API route of every service declares who may use it (`requires` or `public`),
except the operator's health and readiness routes; and each OpenAPI document declares
the bearer scheme, so its /docs page can authorise."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from loketkit.auth import unguarded_routes
from loketkit.testing import RecordingDeadLetters
from services.capacity.bootstrap import bootstrap as capacity
from services.intake.bootstrap import bootstrap as intake
from services.matching.bootstrap import bootstrap as matching
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork
from tests.unit.intake.fakes import FakeIntakeUnitOfWork
from tests.unit.matching.fakes import FakeMatchingUnitOfWork
from tests.unit.reporting.harness import InMemoryReporting


def apps() -> dict[str, FastAPI]:
    letters = RecordingDeadLetters()
    return {
        "intake": intake(uow_factory=FakeIntakeUnitOfWork, dead_letters=letters),
        "capacity": capacity(uow_factory=FakeCapacityUnitOfWork, dead_letters=letters),
        "matching": matching(uow_factory=FakeMatchingUnitOfWork, dead_letters=letters),
        "reporting": InMemoryReporting().app,
    }


@pytest.mark.parametrize("name", ["intake", "capacity", "matching", "reporting"])
def test_only_operator_routes_are_unguarded(name: str) -> None:
    assert unguarded_routes(apps()[name]) == [("GET", "/healthz"), ("GET", "/readyz")]


@pytest.mark.parametrize("name", ["intake", "capacity", "matching", "reporting"])
def test_the_openapi_document_declares_the_bearer_scheme(name: str) -> None:
    document = apps()[name].openapi()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer",
        "description": "An access token from the loket's OpenID Connect provider."}
    secured = [operation for path in document["paths"].values()
               for operation in path.values() if operation.get("security")]
    assert len(secured) >= len(document["paths"]) - 2
