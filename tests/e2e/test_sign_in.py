"""Sign-in from outside, with real tokens from the identity provider (Keycloak): no
route answers an anonymous caller, and every tenant sees only its own objects:
another area's staff, another organiser and another area's coordinator get 404, a
role that never may gets 403. On Kafka, an organiser's system speaks only for its own
locations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from contracts import new_event, to_kafka
from contracts.events import MatchProposed, PlaceFreed
from contracts.schedule import FULL_WEEK
from contracts.topics import DEAD_LETTER, MATCHES, organiser_inbound_topic
from tests.e2e.support import (
    START,
    TOPIC_PREFIX,
    register_location,
    request_body,
    submit_request,
    topic,
)
from tests.kafka_helpers import collect, publish_raw
from tools.infra import Infra
from tools.infra.kafka_principals import security
from tools.infra.tokens import TokenSource
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]


def as_(tokens: TokenSource, account: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.token(account)}"}


def test_nothing_answers_an_anonymous_caller(system: System) -> None:
    intake, capacity = system["intake"].url, system["capacity"].url
    matching, reporting = system["matching"].url, system["reporting"].url
    attempts = {
        "close a location": httpx.post(f"{capacity}/locations/loc-x/closures", json={}),
        "release a closure": httpx.post(f"{capacity}/closures/clo-x/release"),
        "list locations": httpx.get(f"{capacity}/locations"),
        "read requests": httpx.get(f"{intake}/requests"),
        "withdraw a request": httpx.post(f"{intake}/requests/req-x/withdraw"),
        "erase a request": httpx.delete(f"{intake}/requests/req-x/personal-data"),
        "read a queue": httpx.get(f"{matching}/service-areas/kempen-gml/queue"),
        "read figures": httpx.get(f"{reporting}/figures"),
        "read the audit trail": httpx.get(f"{capacity}/audit"),
    }
    assert {what: answer.status_code for what, answer in attempts.items()} == dict.fromkeys(
        attempts, 401)
    assert httpx.get(f"{intake}/healthz").status_code == 200  # the operator's, open


def test_each_tenant_sees_only_its_own(
    system: System, http: httpx.Client, tokens: TokenSource
) -> None:
    intake, capacity, matching = (system[name].url for name in ("intake", "capacity",
                                                                  "matching"))
    location_id = register_location(http, system)  # by organisator.lies (Het Zonneke)
    request_id = submit_request(http, system, [location_id])  # by balie.els (Kempen)
    request = f"{intake}/requests/{request_id}"
    tom, mia = as_(tokens, "balie.tom"), as_(tokens, "coordinator.mia")
    bolleboos = as_(tokens, "organiser-bolleboos")
    assert http.get(request).status_code == 200
    assert httpx.get(request, headers=tom).status_code == 404
    assert httpx.post(f"{request}/withdraw", headers=tom).status_code == 404
    assert request_id not in {r["request_id"] for r in
                              httpx.get(f"{intake}/requests", headers=tom).json()}
    assert httpx.get(f"{matching}/service-areas/kempen-gml/queue",
                     headers=tom).status_code == 404
    location = f"{capacity}/locations/{location_id}"
    assert httpx.get(location, headers=bolleboos).status_code == 404
    assert httpx.post(f"{location}/free-places", headers=bolleboos,
                      json={"available_from": START.isoformat()}).status_code == 404
    closure = {"reason": "licence_suspended", "effective_from": START.isoformat()}
    assert httpx.post(f"{location}/closures", json=closure,
                      headers=as_(tokens, "balie.els")).status_code == 403
    assert httpx.post(f"{location}/closures", json=closure, headers=mia).status_code == 404
    assert http.get(request).json()["status"] == "waiting"  # nothing of it changed


def test_a_family_without_an_account_follows_its_request_by_link(
    system: System, http: httpx.Client, tokens: TokenSource
) -> None:
    location_id = register_location(http, system)
    made = httpx.post(f"{system['intake'].url}/requests", json=request_body([location_id]))
    assert made.status_code == 201, made.text
    request_id, link = made.json()["request_id"], made.json()["personal_link"]
    mine = httpx.get(f"{system['intake'].url}/requests/{request_id}",
                     headers={"X-Personal-Link": link})
    assert (mine.status_code, mine.json()["request_id"]) == (200, request_id)
    read = httpx.get(f"{system['intake'].url}/audit", headers=as_(tokens, "coordinator.jan"))
    assert read.status_code == 200, read.text
    trail = read.json()
    assert {"subject": "anonymous", "action": "SubmitRequest", "object_id": request_id} in [
        {key: row[key] for key in ("subject", "action", "object_id")} for row in trail]


def announcement(location_id: str, place_id: str) -> PlaceFreed:
    return PlaceFreed(
        service_area="kempen-gml", place_id=place_id, location_id=location_id,
        municipality_nis="13053", available_from=START, day_parts=list(FULL_WEEK),
        min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC))


async def test_an_organisers_own_announcement_is_proposed_and_one_for_another_is_not(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    location_id = register_location(http, system)  # Het Zonneke's (org-zonneke)
    request_id = submit_request(http, system, [location_id])
    own, foreign = f"zon-{uuid.uuid4().hex[:8]}", f"bol-{uuid.uuid4().hex[:8]}"
    for organiser, place_id in (("org-bolleboos", foreign), ("org-zonneke", own)):
        key, value, headers = to_kafka(new_event(announcement(location_id, place_id),
                                                 source=f"urn:organiser:{organiser}"))
        await publish_raw(e2e_infra.bootstrap_servers,
                          organiser_inbound_topic(organiser, TOPIC_PREFIX), value or b"",
                          key=key or b"", headers=list(headers), security=security(organiser))
    [proposal] = await collect(
        e2e_infra.bootstrap_servers, topic(MATCHES),
        match=lambda r: r.headers.get("ce_subject") == request_id,
        until=lambda found: len(found) >= 1, settle=1.0)
    assert isinstance(data := proposal.data(), MatchProposed) and data.place_id == own
    [dead] = await collect(
        e2e_infra.bootstrap_servers, topic(DEAD_LETTER),
        match=lambda r: foreign.encode() in (r.value or b""), until=lambda found: len(found) >= 1)
    assert dead.headers["dlq_reason"] == (
        "field 'data.location_id': location of another organiser (org-zonneke)")
