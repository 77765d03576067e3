"""The role table, walked: every route of a service's OpenAPI document, asked by every
persona (and with no token), must answer what its rule says.

Pages count as routes too (they are left out of the OpenAPI document, not out of the
table): a browser that is not signed in is sent to sign in (303, see `page_case`).

A rule names who gets through (`ok`: persona -> 200/201) and whose tenant does not
own the object (`hidden`: 404, as if it did not exist); with no token the answer is
401, and every other persona gets 403. A route without a rule fails `uncovered`, so
no new route can slip in unguarded. Operator routes (health, readiness, metrics)
stay open to the operator's network and are listed here as such.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from loketkit.auth import api_routes
from tests.personas import PERSONAS, headers

OPERATOR_ROUTES = frozenset({("GET", "/healthz"), ("GET", "/readyz")})
# Where a browser signs in and out: open to anyone by nature (loketkit.web.signin).
SIGN_IN_ROUTES = frozenset({("GET", "/aanmelden"), ("GET", "/aanmelden/terug"),
                            ("POST", "/afmelden")})


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str  # as in the OpenAPI document
    ok: Mapping[str, int]
    hidden: frozenset[str] = field(default_factory=frozenset)
    # The concrete URL, if the path has parameters; `{name}` takes the id the seeding
    # stored in `app.state.seeded_ids` (ids made while seeding).
    url: str | None = None
    body: Any = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def expected(self, persona: str) -> int:
        if persona in self.ok:
            return self.ok[persona]
        if persona in self.hidden:
            return 404
        return 401 if persona == "anonymous" else 403

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# Every service's audit trail: the coordinator's, filtered to their own area.
AUDIT = RouteCase("GET", "/audit", ok={"coordinator": 200, "coordinator_other_area": 200})


def page_case(path: str, ok: Mapping[str, int], **more: Any) -> RouteCase:
    """A page's rule: as `ok` says, and a browser not signed in goes to sign in."""
    return RouteCase("GET" if "method" not in more else more.pop("method"), path,
                     ok={"anonymous": 303, **ok}, **more)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every API route and page (in the OpenAPI document or not)."""
    return {(method, path) for path, route in api_routes(app) for method in route.methods or ()}


def uncovered(app: FastAPI, cases: list[RouteCase]) -> list[tuple[str, str]]:
    """Routes with neither a rule nor a place among the operator's or sign-in routes."""
    ruled = {case.key for case in cases}
    return sorted(app_routes(app) - ruled - OPERATOR_ROUTES - SIGN_IN_ROUTES)


# A fresh seeded app per question, so one persona's change never shapes the next answer.
SeededApp = Callable[[], AbstractAsyncContextManager[FastAPI]]


async def answers(case: RouteCase, seeded: SeededApp) -> dict[str, int]:
    found = {}
    for persona in PERSONAS:
        async with seeded() as app, _plain_client(app) as client:
            url = case.url.format(**getattr(app.state, "seeded_ids", {})) if case.url else case.path
            response = await client.request(
                case.method, url, json=case.body, headers=headers(persona))
            found[persona] = response.status_code
    return found


def expected_answers(case: RouteCase) -> dict[str, int]:
    return {persona: case.expected(persona) for persona in PERSONAS}


def _plain_client(app: FastAPI) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """A client that signs in as nobody unless the request says so."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


def role_table_tests(cases: list[RouteCase], seeded: SeededApp) -> tuple[Any, Any]:
    """The two tests every service's role table runs; a test module binds them:
    `test_every_route_has_a_rule, test_each_persona_gets_... = role_table_tests(...)`."""

    async def every_route_has_a_rule() -> None:
        async with seeded() as app:
            assert uncovered(app, cases) == []

    @pytest.mark.parametrize("case", cases, ids=lambda case: f"{case} {case.url or ''}")
    async def each_persona_gets_the_answer_its_rule_gives(case: RouteCase) -> None:
        assert await answers(case, seeded) == expected_answers(case)

    return every_route_has_a_rule, each_persona_gets_the_answer_its_rule_gives
