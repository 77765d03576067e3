"""Bad input: a clear 4xx naming the field over HTTP; the dead-letter topic over Kafka."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from contracts.topics import CAPACITY, DEAD_LETTER, MATCHES, REQUESTS, organiser_inbound_topic
from loketkit.kafka_security import KafkaSecurity
from tests.e2e.support import (
    START,
    TOPIC_PREFIX,
    free_places,
    open_offer,
    register_location,
    request_body,
    submit_request,
    topic,
)
from tests.kafka_helpers import collect, publish_raw
from tools.infra import Infra
from tools.infra.kafka_principals import ADMIN_SECURITY, security
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]

# An organiser's system writes only its own inbound topic, signed in as itself.
ORGANISER = "org-zonneke"
INBOUND = organiser_inbound_topic(ORGANISER, TOPIC_PREFIX)
# Which services read which input topic.
READERS = {
    topic(REQUESTS): {"capacity", "matching", "reporting"},
    topic(CAPACITY): {"intake", "matching", "reporting"},
    INBOUND: {"capacity"},
    topic(MATCHES): {"capacity", "intake", "reporting"},
}


def writer(name: str) -> KafkaSecurity:
    """Who publishes there: the organiser on its own topic; else the admin (any system)."""
    return security(ORGANISER) if name == INBOUND else ADMIN_SECURITY


async def test_malformed_events_are_dead_lettered_and_every_service_keeps_consuming(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    marker = uuid.uuid4().hex
    for name in READERS:
        await publish_raw(e2e_infra.bootstrap_servers, name, f'{{"broken": "{marker}'.encode(),
                          headers=[("ce_specversion", b"1.0")], security=writer(name))
    unknown_version = {"specversion": "1.0", "id": marker, "source": "urn:x", "servicearea": "a",
                       "type": "be.loket.PlaceFreed.v7", "time": datetime.now(UTC).isoformat(),
                       "data": {"marker": marker}}
    await publish_raw(e2e_infra.bootstrap_servers, INBOUND,
                      json.dumps(unknown_version).encode(),
                      headers=[("content-type", b"application/cloudevents+json")],
                      security=security(ORGANISER))

    dead = await collect(
        e2e_infra.bootstrap_servers, topic(DEAD_LETTER),
        match=lambda r: marker.encode() in (r.value or b""),
        until=lambda found: len(found) >= sum(map(len, READERS.values())) + 1,
    )
    seen: dict[str, set[str]] = defaultdict(set)
    for record in dead:
        seen[record.headers["dlq_original_topic"]].add(record.headers["dlq_service"])
        assert record.headers["dlq_reason"]
        assert record.headers["dlq_original_offset"].isdigit()
    assert seen == READERS
    reasons = {r.headers["dlq_reason"] for r in dead}
    assert any("not JSON" in reason for reason in reasons)
    assert any("unknown event type 'be.loket.PlaceFreed.v7'" in reason for reason in reasons)

    # ...and the partitions are not blocked: a normal flow still goes through.
    location_id = register_location(http, system)
    request_id = submit_request(http, system, [location_id])
    free_places(http, system, location_id)
    open_offer(http, system, request_id)


async def test_an_organisers_place_at_an_unknown_location_is_dead_lettered_with_the_field(
    system: System, e2e_infra: Infra
) -> None:
    place_id = f"org-{uuid.uuid4().hex[:10]}"
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": f"urn:organiser:{ORGANISER}",
             "type": "be.loket.PlaceFreed.v1", "time": datetime.now(UTC).isoformat(),
             "servicearea": "kempen-gml",
             "data": {"service_area": "kempen-gml", "place_id": place_id,
                      "location_id": "loc-does-not-exist", "municipality_nis": "13008",
                      "available_from": START.isoformat(), "min_age_months": 0,
                      "max_age_months": 36, "freed_at": datetime.now(UTC).isoformat()}}
    await publish_raw(e2e_infra.bootstrap_servers, INBOUND,
                      json.dumps(event).encode(),
                      headers=[("content-type", b"application/cloudevents+json")],
                      security=security(ORGANISER))
    [dead] = await collect(e2e_infra.bootstrap_servers, topic(DEAD_LETTER),
                           match=lambda r: place_id.encode() in (r.value or b""),
                           until=lambda found: len(found) >= 1, settle=1.0)
    assert dead.headers["dlq_service"] == "capacity"
    assert "location_id" in dead.headers["dlq_reason"]


@pytest.mark.parametrize(
    ("service", "method", "path", "body", "status", "field"),
    [
        ("intake", "POST", "/requests", {**request_body(["x"]), "day_parts": ["sat_am"]}, 422,
         "day_parts.0"),
        ("intake", "POST", "/requests",
         {**request_body(["x"]), "child": {"first_name": "A", "last_name": "B",
                                           "birth_date": "2026-02-30"}}, 422, "child.birth_date"),
        ("intake", "POST", "/requests", request_body(["loc-unknown"]), 422,
         "preferred_location_ids"),
        ("intake", "POST", "/requests", {**request_body(["x"]), "municipality_nis": "11002"},
         422, "municipality_nis"),
        ("intake", "POST", "/requests", "not json at all", 422, None),
        ("intake", "GET", "/requests/req-unknown", None, 404, "request_id"),
        ("capacity", "POST", "/locations",
         {"name": "X", "municipality_nis": "13008", "postcode": "2440", "capacity": -3,
          "subsidy_tier": "basic"}, 422, "capacity"),
        ("capacity", "POST", "/locations",
         {"name": "X", "municipality_nis": "13008", "postcode": "2440", "capacity": 3,
          "subsidy_tier": "gold"}, 422, "subsidy_tier"),
        ("capacity", "POST", "/locations/loc-unknown/free-places",
         {"available_from": START.isoformat()}, 404, "location_id"),
        ("capacity", "POST", "/locations/loc-unknown/closures",
         {"reason": "licence_suspended", "effective_from": START.isoformat()}, 404,
         "location_id"),
        ("reporting", "GET", "/figures?municipality_nis=abc", None, 422, "municipality_nis"),
        # Text PostgreSQL (or a log reader) cannot take is refused at the edge, by field.
        ("intake", "POST", "/requests",
         {**request_body(["x"]), "child": {**request_body(["x"])["child"],
                                           "first_name": "An\u0000"}}, 422, "child.first_name"),
        ("intake", "POST", "/requests",
         {**request_body(["x"]), "parent": {**request_body(["x"])["parent"],
                                            "street": "Markt 1\u001b[2J"}}, 422, "parent.street"),
        ("intake", "POST", "/requests", {**request_body(["x"]), "neighbourhood_code": "A\u00071"},
         422, "neighbourhood_code"),
        ("capacity", "POST", "/locations",
         {"name": "KDV\u0000", "municipality_nis": "13008", "postcode": "2440", "capacity": 3,
          "subsidy_tier": "basic"}, 422, "name"),
        ("capacity", "POST", "/locations",
         {"name": "KDV \u009b31m", "municipality_nis": "13008", "postcode": "2440",
          "capacity": 3, "subsidy_tier": "basic"}, 422, "name"),
    ],
)
def test_bad_http_input_gets_a_4xx_naming_the_field(
    system: System, http: httpx.Client, service: str, method: str, path: str,
    body: object, status: int, field: str | None,
) -> None:
    url = f"{system[service].url}{path}"
    if isinstance(body, str):
        response = http.request(method, url, content=body,
                                headers={"content-type": "application/json"})
    else:
        response = http.request(method, url, json=body)
    assert response.status_code == status, response.text
    if field:
        fields = [item["field"] for item in response.json().get("fields", [])]
        assert any(field in name for name in fields), response.text


def padded(body: dict[str, object], size: int) -> bytes:
    """The body as JSON, grown to about `size` bytes with ten long sibling ids (the 2 MB
    request of issue 5)."""
    sibling = "s" * (size // 10)
    return json.dumps(body | {"priority": {"sibling_location_ids": [sibling] * 10}}).encode()


LOCATION_BODY = {"name": "KDV groot", "municipality_nis": "13008", "postcode": "2440",
                 "capacity": 3, "subsidy_tier": "basic"}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("service", "path", "body", "size"),
    [
        ("intake", "/requests", request_body(["x"]), 65 * 1024),
        ("intake", "/requests", request_body(["x"]), 2 * 1024 * 1024),
        ("capacity", "/locations", LOCATION_BODY, 65 * 1024),
        ("capacity", "/locations", LOCATION_BODY, 2 * 1024 * 1024),
    ],
)
def test_a_body_over_64_kib_is_a_413(
    system: System, http: httpx.Client, service: str, path: str, body: dict[str, object],
    size: int, chunked: bool,
) -> None:
    content = padded(body, size)
    assert len(content) > 64 * 1024

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(content), 16 * 1024):
            yield content[start:start + 16 * 1024]

    response = http.post(f"{system[service].url}{path}",
                         content=chunks() if chunked else content,
                         headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text[:300]
    assert [item["field"] for item in response.json()["fields"]] == ["body"]
