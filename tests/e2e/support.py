"""Small helpers for driving the running system through its public interfaces."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx

from contracts.topics import TopicSpec
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


def register_location(http: httpx.Client, system: dict[str, ServiceProcess],
                      municipality_nis: str = "13053", postcode: str = "2430") -> str:
    location_id = f"loc-{uuid.uuid4().hex[:10]}"
    response = http.post(f"{system['capacity'].url}/locations", json={
        "location_id": location_id, "name": f"KDV test {location_id}",
        "municipality_nis": municipality_nis, "postcode": postcode, "capacity": 40,
        "subsidy_tier": "income_related"})
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
        "days_per_week": 4,
        "preferred_location_ids": location_ids,
        "priority": {"parents_working_or_training": True},
    }
    return body | overrides


def submit_request(http: httpx.Client, system: dict[str, ServiceProcess],
                   location_ids: list[str], **overrides: Any) -> str:
    response = http.post(f"{system['intake'].url}/requests",
                         json=request_body(location_ids, **overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["request_id"])


def free_places(http: httpx.Client, system: dict[str, ServiceProcess], location_id: str,
                count: int = 1, available_from: date = START) -> list[str]:
    response = http.post(f"{system['capacity'].url}/locations/{location_id}/free-places",
                         json={"available_from": available_from.isoformat(), "count": count})
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
