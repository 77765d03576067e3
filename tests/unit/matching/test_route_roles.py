"""Matching's role table: every route, every persona (see tests/unit/route_roles.py).
Queue, worklist and settings belong to the loket's people of one service area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tests.unit.matching.harness import Matching
from tests.unit.route_roles import AUDIT, RouteCase, role_table_tests

AREA = "/service-areas/kempen-gml"
STAFF = {"staff": 200, "coordinator": 200}
OTHER_STAFF = frozenset({"staff_other_area", "coordinator_other_area"})
AREA_READERS = STAFF | {"admin": 200}
OTHER_AREA_READERS = OTHER_STAFF | {"admin_other_area"}

CASES = [
    AUDIT,
    RouteCase("GET", "/service-areas/{service_area}/queue", url=AREA + "/queue", ok=STAFF,
              hidden=OTHER_STAFF),
    RouteCase("GET", "/service-areas/{service_area}/worklist", url=AREA + "/worklist",
              ok=STAFF, hidden=OTHER_STAFF),
    RouteCase("GET", "/service-areas/{service_area}/settings", url=AREA + "/settings",
              ok=AREA_READERS, hidden=OTHER_AREA_READERS),
    RouteCase("GET", "/service-areas/{service_area}/settings/history",
              url=AREA + "/settings/history", ok=AREA_READERS, hidden=OTHER_AREA_READERS),
    RouteCase("POST", "/service-areas/{service_area}/settings", url=AREA + "/settings",
              body={}, ok={"admin": 201}, hidden=frozenset({"admin_other_area"})),
]


@asynccontextmanager
async def seeded() -> AsyncIterator[FastAPI]:
    matching = Matching()
    matching.client()  # lets the app trust this test run's tokens
    yield matching.app


test_every_route_has_a_rule, test_each_persona_gets_the_answer_its_rule_gives = (
    role_table_tests(CASES, seeded))
