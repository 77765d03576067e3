"""Small helpers for driving the running system through its public interfaces."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import make_url

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import MatchProposed, PlaceFreed
from contracts.topics import MATCHES, TopicSpec, organiser_inbound_topic
from loketkit.kafka_security import KafkaSecurity
from tests.kafka_helpers import Record, collect
from tools.infra import Infra, kafka_principals
from tools.infra.kafka_principals import ADMIN_SECURITY
from tools.processes import ServiceProcess

T = TypeVar("T")
START = date.today() + timedelta(days=120)
# Own topics and consumer groups, so a demo or another test run on the same broker can't interfere.
TOPIC_PREFIX = f"e2e-{uuid.uuid4().hex[:8]}."


def topic(spec: TopicSpec) -> str:
    return f"{TOPIC_PREFIX}{spec.name}"


def eventually(probe: Callable[[], T | None], timeout: float = 45.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(f"not reached within {timeout:.0f}s: {what}")


ORGANISER_EMAIL = "opvang@kdv-test.example.be"
FULL_WEEK = ["mon_am", "mon_pm", "tue_am", "tue_pm", "wed_am", "wed_pm", "thu_am", "thu_pm",
             "fri_am", "fri_pm"]
MON_TO_WED = FULL_WEEK[:6]
THU_FRI = FULL_WEEK[6:]


def register_location(http: httpx.Client, system: dict[str, ServiceProcess],
                      municipality_nis: str = "13053", postcode: str = "2430",
                      capacity: int = 40) -> str:
    location_id = f"loc-{uuid.uuid4().hex[:10]}"
    response = http.post(f"{system['capacity'].url}/locations", json={
        "location_id": location_id, "name": f"KDV test {location_id}",
        "municipality_nis": municipality_nis, "postcode": postcode, "capacity": capacity,
        "subsidy_tier": "income_related", "organiser_email": ORGANISER_EMAIL})
    assert response.status_code == 201, response.text
    eventually(lambda: any(loc["location_id"] == location_id for loc in
                           http.get(f"{system['intake'].url}/locations").json()),
               what="intake learns the new location")
    return location_id


def request_body(location_ids: list[str], **overrides: Any) -> dict[str, Any]:
    body = {
        "child": {"first_name": "Mila", "last_name": "Claes",
                  "birth_date": (START - timedelta(days=200)).isoformat(),
                  "national_number": "26041212345"},
        "parent": {"name": "Sara Claes", "email": "sara.claes@example.be",
                   "phone": "+32 470 12 34 56", "street": "Markt 1", "postcode": "2440"},
        "municipality_nis": "13008",
        "desired_start_date": START.isoformat(),
        "day_parts": MON_TO_WED,
        "share_contact_with_organiser": True,
        "preferred_location_ids": location_ids,
        "priority": {"parents_working_or_training": True},
        "sworn_statement": True,
    }
    return body | overrides


def submit_request(http: httpx.Client, system: dict[str, ServiceProcess],
                   location_ids: list[str], **overrides: Any) -> str:
    response = http.post(f"{system['intake'].url}/requests",
                         json=request_body(location_ids, **overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["request_id"])


def free_places(http: httpx.Client, system: dict[str, ServiceProcess], location_id: str,
                count: int = 1, available_from: date = START,
                day_parts: list[str] | None = None) -> list[str]:
    response = http.post(f"{system['capacity'].url}/locations/{location_id}/free-places",
                         json={"available_from": available_from.isoformat(), "count": count,
                               "day_parts": day_parts or FULL_WEEK})
    assert response.status_code == 201, response.text
    body = response.json()
    return list(body["place_ids"] if isinstance(body, dict) else body)


def request_status(http: httpx.Client, system: dict[str, ServiceProcess], request_id: str
                   ) -> dict[str, Any]:
    response = http.get(f"{system['intake'].url}/requests/{request_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def figures_for(http: httpx.Client, system: dict[str, ServiceProcess], nis: str
                ) -> dict[str, Any]:
    figures = http.get(f"{system['reporting'].url}/figures").json()
    return next((row for row in figures["municipalities"] if row["municipality_nis"] == nis), {})


def offers(http: httpx.Client, system: dict[str, ServiceProcess], request_id: str
           ) -> list[dict[str, Any]]:
    return list(request_status(http, system, request_id).get("offers", []))


def open_offer(http: httpx.Client, system: dict[str, ServiceProcess], request_id: str,
               timeout: float = 45.0) -> dict[str, Any]:
    """Waits until intake shows the family an offer it can answer."""
    return eventually(
        lambda: next((o for o in offers(http, system, request_id) if o["status"] == "open"),
                     None),
        timeout=timeout, what=f"an open offer for {request_id}")


def answer(http: httpx.Client, system: dict[str, ServiceProcess], request_id: str,
           match_id: str, verb: str, **body: Any) -> dict[str, Any]:
    """The family accepts or declines an offer (verb: accept, decline)."""
    response = http.post(
        f"{system['intake'].url}/requests/{request_id}/offers/{match_id}/{verb}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def organiser_answer(http: httpx.Client, system: dict[str, ServiceProcess], match_id: str,
                     verb: str, **body: Any) -> httpx.Response:
    """The organiser confirms or refuses an offer at its location (verb: confirm, refuse),
    once capacity has learnt the family's answer."""
    url = f"{system['capacity'].url}/offers/{match_id}/{verb}"

    def answered() -> httpx.Response | None:
        response = http.post(url, json=body)
        return response if response.status_code in (200, 201) else None

    return eventually(answered, what=f"organiser can {verb} {match_id}")


def occupancy(http: httpx.Client, system: dict[str, ServiceProcess], location_id: str,
              on: date = START) -> dict[str, Any]:
    response = http.get(f"{system['capacity'].url}/locations/{location_id}/occupancy",
                        params={"on": on.isoformat()})
    assert response.status_code == 200, response.text
    return dict(response.json())


def post(http: httpx.Client, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A plain POST (the async tests call it between awaits: nothing else runs on their loop)."""
    return http.post(url, json=body if body is not None else {})


def put(http: httpx.Client, url: str, body: dict[str, Any]) -> httpx.Response:
    """A plain PUT, like `post`."""
    return http.put(url, json=body)


def close_location(http: httpx.Client, system: dict[str, ServiceProcess], location_id: str,
                   effective_from: date = START) -> str:
    """The coordinator registers a closure (confidential) and releases it at once."""
    registered = post(http, f"{system['capacity'].url}/locations/{location_id}/closures",
                      {"reason": "licence_suspended", "effective_from": effective_from.isoformat()})
    assert registered.status_code == 201, registered.text
    closure_id = str(registered.json()["closure_id"])
    released = post(http, f"{system['capacity'].url}/closures/{closure_id}/release")
    assert released.status_code in (200, 201), released.text
    return closure_id


# Who a real user of each route is, per service (first match wins; else the default).
ACCOUNTS: dict[str, tuple[list[tuple[str, str, str]], str]] = {
    "intake": ([("*", r"/offers/[^/]+/contact", "organisator.lies"),
                ("POST", r"/service-areas/.*", "beheer.ria"),
                ("*", r"/audit", "coordinator.jan")], "balie.els"),
    "capacity": ([("*", r"/closures.*|/locations/[^/]+/closures|/audit", "coordinator.jan"),
                  ("POST", r"/service-areas/.*", "beheer.ria")], "organisator.lies"),
    "matching": ([("POST", r"/service-areas/.*", "beheer.ria"),
                  ("*", r"/audit", "coordinator.jan")], "balie.els"),
    "reporting": ([], "opgroeien.kim"),
}
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")


class RouteAccounts:
    """Who a real user of each route is, for the e2e client (loket staff for requests, the
    organiser for its locations, the coordinator for closures...), by service port."""

    def __init__(self, ports: dict[str, int]) -> None:
        self._service_at = {port: name for name, port in ports.items()}

    def account(self, request: httpx.Request) -> str | None:
        service = self._service_at.get(request.url.port or 80)
        path = request.url.path
        if service is None or path in OPERATOR_PATHS:
            return None
        rules, default = ACCOUNTS[service]
        for method, pattern, account in rules:
            if method in ("*", request.method) and re.fullmatch(pattern, path):
                return account
        return default


# ---- bursts, crashes and proposals (tests/e2e/test_crash.py, test_rebalance.py) ----------


async def publish_events(bootstrap: str, messages: list[tuple[str, CloudEvent]],
                         security: KafkaSecurity = ADMIN_SECURITY) -> None:
    """Publishes (topic, event) pairs in this order through one producer, as one burst,
    keyed by the event's service area; returns once the broker acknowledged them all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **security.aiokafka())
    await producer.start()
    try:
        sent = []
        for name, event in messages:
            key, value, headers = to_kafka(event)
            sent.append(await producer.send(name, value, key=key, headers=list(headers)))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def announced_place(location_id: str, place_id: str, service_area: str = "kempen-gml",
                    municipality_nis: str = "13053") -> PlaceFreed:
    """A free place for the whole week from START, as an organiser's system announces it."""
    return PlaceFreed(
        service_area=service_area, place_id=place_id, location_id=location_id,
        municipality_nis=municipality_nis, available_from=START, day_parts=list(FULL_WEEK),
        min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC))


async def announce_places(bootstrap: str, location_id: str, count: int,
                          organiser: str = "org-zonneke") -> list[str]:
    """`count` free places at the location, announced in one burst on the organiser's own
    inbound topic, signed in as the organiser (its system, not the loket's HTTP API)."""
    place_ids = [f"{organiser[4:8]}-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    inbound = organiser_inbound_topic(organiser, TOPIC_PREFIX)
    await publish_events(bootstrap, [
        (inbound, new_event(announced_place(location_id, place_id),
                            source=f"urn:organiser:{organiser}"))
        for place_id in place_ids], security=kafka_principals.security(organiser))
    return place_ids


def is_running(service: ServiceProcess) -> bool:
    return service.process is not None and service.process.poll() is None


def ensure_running(service: ServiceProcess) -> None:
    """Starts the service again if a test stopped or killed it (and waits until ready),
    so the session's later tests find the whole system up."""
    if not is_running(service):
        service.start()
    service.wait_ready()


async def proposals_of(bootstrap: str, location_ids: set[str], place_ids: set[str],
                       wait_seconds: float = 120.0, settle: float = 5.0
                       ) -> dict[str, MatchProposed]:
    """The MatchProposed events at these locations, by event id (a relay that crashed
    between publishing and marking may repeat a message with its id: consumers drop such
    repeats), once every place in `place_ids` has one; read `settle` seconds longer so a
    second proposal that would follow shows up too."""
    proposed_type = MatchProposed.event_type()

    def at_locations(record: Record) -> bool:
        return record.headers.get("ce_type") == proposed_type and (
            getattr(record.data(), "location_id", None) in location_ids)

    def all_proposed(found: list[Record]) -> bool:
        return place_ids <= {getattr(r.data(), "place_id", None) for r in found}

    records = await collect(bootstrap, topic(MATCHES), at_locations, until=all_proposed,
                            wait_seconds=wait_seconds, settle=settle)
    proposals: dict[str, MatchProposed] = {}
    for record in records:
        data = record.data()
        assert isinstance(data, MatchProposed)
        proposals[record.event().id] = data
    return proposals


def assert_each_place_proposed_once(proposals: dict[str, MatchProposed], place_ids: set[str],
                                    request_ids: set[str] | None = None) -> None:
    """Every place proposed exactly once, no other place proposed, no request twice;
    with `request_ids`, also only those requests."""
    per_place = Counter(p.place_id for p in proposals.values())
    per_request = Counter(p.request_id for p in proposals.values())
    assert set(per_place) == place_ids, (
        f"places never proposed: {sorted(place_ids - set(per_place))}; "
        f"others proposed: {sorted(set(per_place) - place_ids)}")
    doubled = {place: n for place, n in per_place.items() if n > 1}
    assert not doubled, f"places proposed more than once: {doubled}"
    twice = {request: n for request, n in per_request.items() if n > 1}
    assert not twice, f"requests proposed more than once: {twice}"
    if request_ids is not None:
        assert set(per_request) <= request_ids, "proposals for requests of this test only"


async def kill_mid_transaction(service: ServiceProcess, infra: Infra, tables: tuple[str, ...],
                               seconds: float = 30.0) -> bool:
    """SIGKILLs the service as soon as PostgreSQL shows one of its sessions inside a
    transaction whose statement touches one of `tables` (a batch of events being
    applied), so the crash lands mid-batch. Returns whether it did; after `seconds`
    without such a transaction it kills the service anyway and returns False."""
    database = make_url(infra.database_urls[service.name]).database
    admin = make_url(infra.admin_database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            open_batches = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
                "pg_backend_pid() AND xact_start IS NOT NULL AND state <> 'idle' "
                "AND query ~ $2", database, "|".join(tables))
            if open_batches:
                service.kill()
                return True
            await asyncio.sleep(0.005)
        service.kill()
        return False
    finally:
        await connection.close()
