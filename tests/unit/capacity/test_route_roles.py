"""Capacity's role table: every route, every persona (see tests/unit/route_roles.py).

The seeded world: location loc-a of org-zonneke in kempen-gml with a declared
enrolment, an accepted offer (match-1), a proposed one (match-2), an open free place
and a registered closure; loc-c of the same organiser, without a closure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from loketkit.testing import RecordingDeadLetters, deliver
from services.capacity.bootstrap import bootstrap
from services.capacity.settings import CapacitySettings
from tests.personas import CAPACITY_USERS, PERSONAS, signed_in
from tests.unit.capacity.conftest import NEXT_MONTH, NOW, TODAY, CountingIds, acceptance, proposal
from tests.unit.capacity.crisis_page_cases import CRISIS_PAGE_CASES
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork
from tests.unit.capacity.organiser_page_cases import ORGANISER_PAGE_CASES
from tests.unit.route_roles import AUDIT, RouteCase, role_table_tests

LOCATION = {"location_id": "loc-a", "name": "Het Zonneke", "municipality_nis": "13008",
            "postcode": "2440", "capacity": 10, "subsidy_tier": "plus"}
CLOSURE = {"reason": "licence_suspended", "effective_from": str(NEXT_MONTH)}
ENROLMENT = {"enrolment_id": "own-1", "start_date": str(TODAY), "day_parts": ["mon_am"]}

RUNNER = {"organiser": 200}
NOT_RUNNER = frozenset({"other_organiser"})
READERS = {"organiser": 200, "staff": 200, "coordinator": 200, "admin": 200}
OTHER_READERS = frozenset({"other_organiser", "staff_other_area", "coordinator_other_area",
                           "admin_other_area"})
COORDINATOR = {"coordinator": 200}
OTHER_COORDINATOR = frozenset({"coordinator_other_area"})
LOC = "/locations/{location_id}"

CASES = [
    AUDIT,
    RouteCase("POST", "/locations", body=LOCATION | {"location_id": "loc-b"},
              ok={"organiser": 201, "other_organiser": 201, "coordinator": 201}),
    RouteCase("GET", "/locations", ok=READERS | dict.fromkeys(OTHER_READERS, 200)),
    RouteCase("GET", LOC, url="/locations/loc-a", ok=READERS, hidden=OTHER_READERS),
    RouteCase("PUT", LOC + "/capacity", url="/locations/loc-a/capacity",
              body={"licensed_places": 8}, ok=RUNNER, hidden=NOT_RUNNER),
    RouteCase("GET", LOC + "/occupancy", url="/locations/loc-a/occupancy", ok=READERS,
              hidden=OTHER_READERS),
    RouteCase("POST", LOC + "/free-places", url="/locations/loc-a/free-places",
              body={"available_from": str(NEXT_MONTH)}, ok={"organiser": 201},
              hidden=NOT_RUNNER),
    RouteCase("POST", LOC + "/free-places/{place_id}/withdraw",
              url="/locations/loc-a/free-places/{open_place}/withdraw", ok=RUNNER,
              hidden=NOT_RUNNER),
    RouteCase("GET", LOC + "/offers", url="/locations/loc-a/offers", ok=READERS,
              hidden=OTHER_READERS),
    RouteCase("POST", "/offers/{match_id}/confirm", url="/offers/match-1/confirm", body={},
              ok={"organiser": 201}, hidden=NOT_RUNNER),
    RouteCase("POST", "/offers/{match_id}/refuse", url="/offers/match-2/refuse",
              body={"reason": "age_group_full"}, ok=RUNNER, hidden=NOT_RUNNER),
    RouteCase("PUT", LOC + "/enrolments", url="/locations/loc-a/enrolments",
              body={"enrolments": [ENROLMENT]}, ok=RUNNER, hidden=NOT_RUNNER),
    RouteCase("GET", LOC + "/enrolments", url="/locations/loc-a/enrolments", ok=READERS,
              hidden=OTHER_READERS),
    RouteCase("POST", "/enrolments/{enrolment_id}/end", url="/enrolments/own-1/end",
              body={"ended_on": str(NEXT_MONTH), "reason": "left"}, ok=RUNNER,
              hidden=NOT_RUNNER),
    RouteCase("POST", LOC + "/closures", url="/locations/loc-c/closures", body=CLOSURE,
              ok={"coordinator": 201}, hidden=OTHER_COORDINATOR),
    RouteCase("GET", "/closures", ok=COORDINATOR | {"coordinator_other_area": 200}),
    RouteCase("GET", "/closures/{closure_id}", url="/closures/{closure}", ok=COORDINATOR,
              hidden=OTHER_COORDINATOR),
    RouteCase("POST", "/closures/{closure_id}/release", url="/closures/{closure}/release",
              ok=COORDINATOR, hidden=OTHER_COORDINATOR),
]

# where every visitor starts: the pages their role can open
CASES.append(RouteCase("GET", "/", ok=dict.fromkeys(PERSONAS, 200)))
CASES += [*ORGANISER_PAGE_CASES, *CRISIS_PAGE_CASES]


@asynccontextmanager
async def seeded() -> AsyncIterator[FastAPI]:
    uow = FakeCapacityUnitOfWork()
    app = bootstrap(CapacitySettings(handler_backoff_seconds=0), uow_factory=lambda: uow,
                    dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
                    id_factory=CountingIds())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c",
                                 auth=signed_in(app, CAPACITY_USERS)) as client:
        for location_id in ("loc-a", "loc-c"):
            registered = await client.post("/locations", json=LOCATION | {
                "location_id": location_id})
            assert registered.status_code == 201
        declared = await client.put("/locations/loc-a/enrolments",
                                    json={"enrolments": [ENROLMENT]})
        assert declared.status_code == 200
        freed = await client.post("/locations/loc-a/free-places",
                                  json={"available_from": str(NEXT_MONTH), "count": 3})
        accepted_place, proposed_place, open_place = freed.json()["place_ids"]
        first = proposal(match_id="match-1", place_id=accepted_place, request_id="req-1")
        await deliver(app.state.consumer, first)
        await deliver(app.state.consumer, acceptance(first))
        await deliver(app.state.consumer, proposal(
            match_id="match-2", place_id=proposed_place, request_id="req-2"))
        closure = await client.post("/locations/loc-a/closures", json=CLOSURE)
        assert closure.status_code == 201, closure.text
    app.state.seeded_ids = {"open_place": open_place, "closure": closure.json()["closure_id"]}
    yield app


test_every_route_has_a_rule, test_each_persona_gets_the_answer_its_rule_gives = (
    role_table_tests(CASES, seeded))
