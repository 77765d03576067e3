"""Reporting's role table: every route, every persona (see tests/unit/route_roles.py).
Opgroeien reads every area; a municipality its own figures (another's is not found);
the loket's own people their area's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tests.personas import REPORTING_USERS, signed_in
from tests.unit.reporting.harness import InMemoryReporting
from tests.unit.route_roles import AUDIT, RouteCase, page_case, role_table_tests

READERS = dict.fromkeys(("opgroeien", "municipality", "other_municipality", "staff",
                         "staff_other_area", "coordinator", "coordinator_other_area", "admin",
                         "admin_other_area"), 200)
GEEL = "?municipality_nis=13008"
GEEL_READERS = READERS.copy()
del GEEL_READERS["other_municipality"]

CASES = [
    AUDIT,
    *(RouteCase("GET", path, ok=READERS) for path in ("/figures", "/figures.csv")),
    page_case("/", ok=READERS),
    *(RouteCase("GET", path, url=path + GEEL, ok=GEEL_READERS,
                hidden=frozenset({"other_municipality"})) for path in ("/figures", "/figures.csv")),
]


@asynccontextmanager
async def seeded() -> AsyncIterator[FastAPI]:
    reporting = InMemoryReporting()
    signed_in(reporting.app, REPORTING_USERS)
    yield reporting.app


test_every_route_has_a_rule, test_each_persona_gets_the_answer_its_rule_gives = (
    role_table_tests(CASES, seeded))
