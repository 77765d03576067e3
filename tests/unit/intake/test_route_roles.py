"""Intake's role table: every route, every persona (see tests/unit/route_roles.py).

The seeded world: location loc-a of org-zonneke in kempen-gml; req-1 registered by the
signed-in parent (parent-an) with an open offer at loc-a; req-2 registered by loket
staff, whose family accepted its offer at loc-a and shares its contact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tests.personas import PERSONAS, headers
from tests.unit.intake.family_page_cases import FAMILY_PAGE_CASES
from tests.unit.intake.harness import AREA, REQUEST, new_intake, proposal
from tests.unit.intake.staff_page_cases import STAFF_PAGE_CASES
from tests.unit.intake.test_imports import ROW_1, csv_of
from tests.unit.route_roles import AUDIT, RouteCase, role_table_tests

FAMILY = {"parent": 200, "staff": 200}
FAMILY_HIDDEN = frozenset({"other_parent", "staff_other_area"})
SETTINGS = f"/service-areas/{AREA}/settings"
AREA_READERS = {"staff": 200, "coordinator": 200, "admin": 200}
OTHER_AREA_READERS = frozenset({"staff_other_area", "coordinator_other_area",
                                "admin_other_area"})
REQ = "/requests/{request_id}"
VULNERABILITY = ("low_income", "low_parental_education", "parents_without_work",
                 "poor_housing", "health_problems")
OFFER = "/requests/{request_id}/offers/{match_id}"

CASES = [
    AUDIT,
    RouteCase("POST", "/requests", body=REQUEST, ok={
        "anonymous": 201, "parent": 201, "other_parent": 201, "staff": 201, "partner": 201}),
    RouteCase("GET", "/requests", ok=dict.fromkeys(
        ("parent", "other_parent", "staff", "staff_other_area", "coordinator",
         "coordinator_other_area"), 200)),
    RouteCase("GET", REQ, url="/requests/req-1",
              ok={"parent": 200, "staff": 200, "coordinator": 200},
              hidden=FAMILY_HIDDEN | {"coordinator_other_area"}),
    RouteCase("PATCH", REQ, url="/requests/req-1", body={"day_parts": ["mon_am", "mon_pm"]},
              ok=FAMILY, hidden=FAMILY_HIDDEN),
    RouteCase("GET", REQ + "/audit", url="/requests/req-1/audit",
              ok={"staff": 200, "coordinator": 200},
              hidden=frozenset({"staff_other_area", "coordinator_other_area"})),
    RouteCase("POST", REQ + "/confirm", url="/requests/req-1/confirm", ok=FAMILY,
              hidden=FAMILY_HIDDEN),
    # A judgement: the loket's staff and coordinator of the request's area, never the family.
    RouteCase("PUT", REQ + "/assessment", url="/requests/req-1/assessment", body={
        "vulnerability": dict.fromkeys(VULNERABILITY, False),
        "urgency": {"decision": "granted", "reason": "ouder ernstig ziek"}},
              ok={"staff": 200, "coordinator": 200},
              hidden=frozenset({"staff_other_area", "coordinator_other_area"})),
    RouteCase("POST", OFFER + "/accept", url="/requests/req-1/offers/m-req-1-loc-a/accept",
              ok=FAMILY, hidden=FAMILY_HIDDEN),
    RouteCase("POST", OFFER + "/decline", url="/requests/req-1/offers/m-req-1-loc-a/decline",
              ok=FAMILY, hidden=FAMILY_HIDDEN),
    RouteCase("DELETE", REQ + "/personal-data", url="/requests/req-1/personal-data", ok=FAMILY,
              hidden=FAMILY_HIDDEN),
    RouteCase("POST", REQ + "/siblings", url="/requests/req-1/siblings",
              body={"request_id": "req-2"}, ok={"staff": 200},
              hidden=frozenset({"staff_other_area"})),
    RouteCase("POST", REQ + "/withdraw", url="/requests/req-1/withdraw", ok=FAMILY,
              hidden=FAMILY_HIDDEN),
    RouteCase("POST", REQ + "/personal-link", url="/requests/req-1/personal-link",
              ok={"staff": 201}, hidden=frozenset({"staff_other_area"})),
    RouteCase("DELETE", REQ + "/personal-link", url="/requests/req-1/personal-link",
              ok=FAMILY, hidden=FAMILY_HIDDEN),
    RouteCase("GET", "/offers/{match_id}/contact", url="/offers/m-req-2-loc-a/contact",
              ok={"organiser": 200}, hidden=frozenset({"other_organiser"})),
    RouteCase("POST", "/imports", body={"csv": csv_of(ROW_1), "imported_by": "Els"},
              ok={"staff": 201}),
    RouteCase("GET", "/locations", ok=dict.fromkeys(
        ("anonymous", "parent", "other_parent", "staff", "staff_other_area", "coordinator",
         "coordinator_other_area", "organiser", "other_organiser", "partner",
         "partner_other_area", "municipality", "other_municipality", "opgroeien", "admin",
         "admin_other_area"), 200)),
    RouteCase("GET", "/service-areas/{service_area}/settings", url=SETTINGS, ok=AREA_READERS,
              hidden=OTHER_AREA_READERS),
    RouteCase("GET", "/service-areas/{service_area}/settings/history", url=SETTINGS + "/history",
              ok=AREA_READERS, hidden=OTHER_AREA_READERS),
    RouteCase("POST", "/service-areas/{service_area}/settings", url=SETTINGS,
              body={"confirm_every": {"days": 60}}, ok={"admin": 201},
              hidden=frozenset({"admin_other_area"})),
]

# where every visitor starts: the pages their role can open
CASES.append(RouteCase("GET", "/", ok=dict.fromkeys(PERSONAS, 200)))
CASES += [*FAMILY_PAGE_CASES, *STAFF_PAGE_CASES]


@asynccontextmanager
async def seeded() -> AsyncIterator[FastAPI]:
    async with new_intake() as intake:
        await intake.register("loc-a")
        await intake.register("loc-b")
        mine = await intake.client.post("/requests", json=REQUEST, headers=headers("parent"))
        assert mine.status_code == 201
        assert (await intake.submit()).status_code == 201
        await intake.deliver(proposal("req-1"))
        await intake.deliver(proposal("req-2"))
        accepted = await intake.client.post("/requests/req-2/offers/m-req-2-loc-a/accept")
        assert accepted.status_code == 200
        yield intake.app


test_every_route_has_a_rule, test_each_persona_gets_the_answer_its_rule_gives = (
    role_table_tests(CASES, seeded))
