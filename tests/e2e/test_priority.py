"""End to end: the priority rules across services. A family asks for urgency with a
reason, loket staff grant it in intake, and matching, which learns only the outcome,
offers that family the next place; then working parents come before a family with three
other facts; every offer names its rule set and class."""

from __future__ import annotations

import httpx

from contracts.events import MatchProposed
from contracts.topics import MATCHES
from tests.e2e.support import (
    eventually,
    free_places,
    put,
    register_location,
    submit_request,
    topic,
)
from tests.kafka_helpers import collect
from tools.infra import Infra
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]
AREA = "kempen-gml"
NO_WORK = {"single_parent": True, "low_income": True, "foster_child": True}
VULNERABILITY = {"low_income": True, "low_parental_education": True,
                 "parents_without_work": False, "poor_housing": False,
                 "health_problems": False}


async def proposals_for(infra: Infra, request_ids: set[str], count: int) -> list[MatchProposed]:
    found = await collect(
        infra.bootstrap_servers, topic(MATCHES),
        match=lambda r: r.headers.get("ce_subject") in request_ids
        and r.headers.get("ce_type", "").startswith("be.loket.MatchProposed"),
        until=lambda records: len(records) >= count, settle=2.0)
    return [data for record in found if isinstance(data := record.data(), MatchProposed)]


async def test_staff_granted_urgency_then_the_absolute_class_decide_who_gets_a_place(
    system: System, http: httpx.Client, e2e_infra: Infra,
) -> None:
    location_id = register_location(http, system)
    three_facts = submit_request(http, system, [location_id], priority=NO_WORK)
    working = submit_request(http, system, [location_id])
    asks = submit_request(http, system, [location_id], priority=NO_WORK,
                          urgency_reason="De opvang van de oudere broer stopt volgende week.")
    assessed = put(http, f"{system['intake'].url}/requests/{asks}/assessment", {
        "vulnerability": VULNERABILITY,
        "urgency": {"decision": "granted", "reason": "Moeder start een opleiding."}})
    assert assessed.status_code == 200, assessed.text
    assert (assessed.json()["urgency"], assessed.json()["vulnerable"]) == ("urgent", True)
    # matching reads requests and places from different topics: wait until it knows
    eventually(lambda: any(
        found["request_id"] == asks for found in http.get(
            f"{system['matching'].url}/service-areas/{AREA}/worklist").json()[
                "urgent_without_offer"]), what="matching learns of the granted urgency")

    free_places(http, system, location_id)
    [first] = await proposals_for(e2e_infra, {three_facts, working, asks}, 1)
    assert (first.request_id, first.urgency) == (asks, "urgent")
    assert first.rule_set == "vlaanderen-2025"
    assert "dringende vraag, toegekend door het loket" in first.ordering

    free_places(http, system, location_id)
    found = await proposals_for(e2e_infra, {three_facts, working, asks}, 2)
    second = next(p for p in found if p.request_id != asks)
    assert (second.request_id, second.priority_class) == (working, "werk")
    assert "inkomenstarief" in second.ordering
