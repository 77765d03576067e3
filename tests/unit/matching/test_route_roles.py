"""Matching's role table: every route, every persona (see tests/unit/route_roles.py).
Queue, worklist, rounds and settings belong to the loket's people of one service area;
the priority rules are public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

from fastapi import FastAPI

from services.matching.domain.rounds import AllocationRound
from tests.personas import PERSONAS
from tests.unit.matching.harness import Matching
from tests.unit.route_roles import AUDIT, RouteCase, role_table_tests

AREA = "/service-areas/kempen-gml"
STAFF = {"staff": 200, "coordinator": 200}
OTHER_STAFF = frozenset({"staff_other_area", "coordinator_other_area"})
AREA_READERS = STAFF | {"admin": 200}
OTHER_AREA_READERS = OTHER_STAFF | {"admin_other_area"}
EVERYONE = {persona: 200 for persona in (*PERSONAS, "anonymous")}
ROUND = AREA + "/rounds/{round_id}"

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
    RouteCase("GET", "/rule-sets", ok=EVERYONE),
    RouteCase("GET", "/rule-sets/{rule_set_id}", url="/rule-sets/vlaanderen-2025",
              ok=EVERYONE),
    RouteCase("GET", "/service-areas/{service_area}/rules", url=AREA + "/rules",
              ok=EVERYONE),
    RouteCase("POST", "/service-areas/{service_area}/rounds", url=AREA + "/rounds",
              body={"period_from": "2027-09-01", "period_to": "2027-12-31"},
              ok={"staff": 201, "coordinator": 201}, hidden=OTHER_STAFF),
    RouteCase("GET", "/service-areas/{service_area}/rounds", url=AREA + "/rounds",
              ok=STAFF, hidden=OTHER_STAFF),
    RouteCase("GET", "/service-areas/{service_area}/rounds/{round_id}", url=ROUND,
              ok=STAFF, hidden=OTHER_STAFF),
    RouteCase("POST", "/service-areas/{service_area}/rounds/{round_id}/publish",
              url=ROUND + "/publish", ok=STAFF, hidden=OTHER_STAFF),
]


@asynccontextmanager
async def seeded() -> AsyncIterator[FastAPI]:
    matching = Matching()
    matching.client()  # lets the app trust this test run's tokens
    await matching.uow.rounds.add(AllocationRound(
        round_id="round-1", service_area="kempen-gml", decision_date=date(2027, 5, 1),
        period_from=date(2027, 9, 1), period_to=date(2027, 12, 31), lottery_seed=7,
        rule_sets=["vlaanderen-2025"], report={"assignments": []},
        run_at=datetime(2027, 5, 1, tzinfo=UTC)))
    matching.app.state.seeded_ids = {"round_id": "round-1"}
    yield matching.app


test_every_route_has_a_rule, test_each_persona_gets_the_answer_its_rule_gives = (
    role_table_tests(CASES, seeded))
