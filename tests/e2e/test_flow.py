"""End to end: the four services as processes, driven only through HTTP and Kafka."""

from __future__ import annotations

import httpx

from contracts.events import MatchProposed, RequestSubmitted
from contracts.topics import MATCHES, REQUESTS
from tests.e2e.support import (
    eventually,
    figures_for,
    free_places,
    open_offer,
    register_location,
    request_status,
    submit_request,
    topic,
)
from tests.kafka_helpers import collect
from tools.infra import Infra
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]


async def test_a_request_and_a_free_place_yield_one_proposal_everyone_sees(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    before = figures_for(http, system, "13008")
    location_id = register_location(http, system)
    request_id = submit_request(http, system, [location_id])
    [place_id] = free_places(http, system, location_id)

    proposals = await collect(
        e2e_infra.bootstrap_servers, topic(MATCHES),
        match=lambda r: r.headers.get("ce_subject") == request_id,
        until=lambda found: len(found) >= 1, settle=2.0,
    )
    assert len(proposals) == 1
    proposal = proposals[0].data()
    assert isinstance(proposal, MatchProposed)
    assert (proposal.place_id, proposal.location_id) == (place_id, location_id)

    offer = open_offer(http, system, request_id)
    assert (offer["place_id"], offer["location_id"]) == (place_id, location_id)
    assert offer["match_id"] == proposal.match_id
    assert request_status(http, system, request_id)["status"] == "waiting"

    after = eventually(
        lambda: (f := figures_for(http, system, "13008"))
        and f["proposals"] == before.get("proposals", 0)
        and f["requests_submitted"] == before.get("requests_submitted", 0) + 1 and f,
        what="reporting counts the request")
    laakdal = eventually(lambda: (f := figures_for(http, system, "13053"))
                         and f["proposals"] >= 1 and f, what="reporting counts the proposal")
    assert laakdal["free_places"] >= 1
    assert after["requests_submitted"] >= 1


async def test_no_personal_data_leaves_intake(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    location_id = register_location(http, system)
    request_id = submit_request(http, system, [location_id])
    [record] = await collect(
        e2e_infra.bootstrap_servers, topic(REQUESTS),
        match=lambda r: r.headers.get("ce_subject") == request_id,
        until=lambda found: len(found) >= 1,
    )
    assert isinstance(record.data(), RequestSubmitted)
    wire = (record.value or b"") + repr(record.headers).encode()
    for personal in (b"Mila", b"Claes", b"26041212345", b"sara.claes", b"470 12 34", b"Markt"):
        assert personal not in wire
    logs = b"".join(p.log_path.read_bytes() for p in system.values())
    for personal in (b"Claes", b"26041212345", b"sara.claes"):
        assert personal not in logs


def test_the_four_services_answer_health_readiness_and_metrics(
    system: System, http: httpx.Client
) -> None:
    for service in system.values():
        assert http.get(f"{service.url}/healthz").json()["status"] == "ok"
        assert http.get(f"{service.url}/readyz").status_code == 200
        metrics = http.get(f"{service.url}/metrics").text
        assert "loket_outbox_published" in metrics


def test_erasure_removes_the_familys_data_and_keeps_the_figures(
    system: System, http: httpx.Client
) -> None:
    location_id = register_location(http, system, municipality_nis="13021", postcode="2450")
    before = figures_for(http, system, "13008")
    request_id = submit_request(http, system, [location_id])
    counted = eventually(lambda: (f := figures_for(http, system, "13008"))
                         and f["requests_submitted"] == before.get("requests_submitted", 0) + 1
                         and f, what="reporting counts the request")

    response = http.delete(f"{system['intake'].url}/requests/{request_id}/personal-data")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn" and response.json()["erased_at"]

    after = eventually(lambda: (f := figures_for(http, system, "13008"))
                       and f["requests_withdrawn"] == counted["requests_withdrawn"] + 1 and f,
                       what="reporting counts the withdrawal")
    assert after["requests_submitted"] == counted["requests_submitted"]
    missing = http.delete(f"{system['intake'].url}/requests/req-nobody/personal-data")
    assert missing.status_code == 404
