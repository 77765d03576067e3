"""Every API route of every service declares who may use it (`requires` or `public`),
except the operator's health and readiness routes; and each OpenAPI document declares
the bearer scheme, so its /docs page can authorise."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from loketkit.auth import api_routes, unguarded_routes
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


def threaded_parts(app: FastAPI) -> list[str]:
    """The endpoints and dependencies FastAPI would run in a worker thread (plain `def`)."""

    def sync(call: object) -> bool:
        return not (inspect.iscoroutinefunction(call)
                    or inspect.iscoroutinefunction(type(call).__call__))

    def walk(dependant: Dependant, path: str) -> list[str]:
        found = [f"{path}: {sub.call.__qualname__}" for sub in dependant.dependencies
                 if sub.call is not None and sync(sub.call)]
        return found + [part for sub in dependant.dependencies for part in walk(sub, path)]

    return [part for path, route in api_routes(app)
            for part in walk(route.dependant, path)
            + ([f"{path}: {route.endpoint.__qualname__}"] if sync(route.endpoint) else [])]


@pytest.mark.parametrize("name", ["intake", "capacity", "matching", "reporting"])
def test_no_route_hops_to_a_worker_thread(name: str) -> None:
    # Our dependencies and endpoints do no blocking work; a plain `def` would still
    # cost a thread hop on every request (intake's POST /requests: 13 -> 10.5 ms of CPU).
    assert threaded_parts(apps()[name]) == []
