"""What intake's tests share: a request body, events to deliver, and the app under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
from fastapi import FastAPI

from contracts.events import CrisisClosure, EventData, LocationRegistered, MatchProposed
from loketkit.testing import RecordingDeadLetters, deliver
from tests.unit.intake.fakes import FakeIntakeUnitOfWork

AREA = "kempen-gml"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHILD: dict[str, object] = {"first_name": "Lotte", "last_name": "Peeters",
                            "birth_date": "2026-10-12", "national_number": "26101212345"}
PARENT: dict[str, object] = {"name": "An Peeters", "email": "an@example.be",
                             "phone": "+32 470 00 00 00", "street": "Markt 1", "postcode": "2440"}
REQUEST: dict[str, object] = {
    "child": CHILD,
    "parent": PARENT,
    "municipality_nis": "13008",
    "desired_start_date": "2027-09-01",
    "days_per_week": 4,
    "preferred_location_ids": ["loc-a"],
    "priority": {"parents_working_or_training": True},
}
PERSONAL = ("Lotte", "Peeters", "26101212345", "an@example.be", "Markt")


@dataclass
class Intake:
    """The app and what the tests look at behind it."""

    app: FastAPI
    client: httpx.AsyncClient
    uow: FakeIntakeUnitOfWork
    dead_letters: RecordingDeadLetters

    async def deliver(self, data: EventData) -> str:
        return await deliver(self.app.state.consumer, data)

    async def register(self, location_id: str, postcode: str = "2440",
                       name: str = "KDV") -> None:
        outcome = await self.deliver(LocationRegistered(
            service_area=AREA, location_id=location_id, name=name, municipality_nis="13008",
            postcode=postcode, capacity=10, subsidy_tier="basic", registered_at=NOW))
        assert outcome == "applied"

    async def submit(self, **changes: object) -> httpx.Response:
        return await self.client.post("/requests", json=REQUEST | changes)


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


def proposal(request_id: str, location_id: str = "loc-a") -> MatchProposed:
    return MatchProposed(service_area=AREA, match_id=f"m-{request_id}", request_id=request_id,
                         place_id=f"p-{request_id}", location_id=location_id,
                         location_municipality_nis="13008", request_municipality_nis="13008",
                         urgency="normal", ordering="x", proposed_at=NOW)


def closure(location_id: str) -> CrisisClosure:
    return CrisisClosure(service_area=AREA, closure_id="c-1", location_id=location_id,
                         municipality_nis="13008", reason="licence_revoked",
                         effective_from=date(2026, 12, 1), announced_at=NOW)


# Around Geel (2440), by straight-line distance: Meerhout 6.9 km, Laakdal 8.3,
# Westerlo 8.6, Mol 9.1, Olen 9.3, Kasterlee 9.8, Herentals 11.1, Dessel 12.2,
# Balen 14.2, Turnhout 18.3, Brugge 123; postcode 0000 has no coordinates.
AROUND_GEEL = {
    "loc-balen": "2490", "loc-brugge": "8000", "loc-dessel": "2480", "loc-herentals": "2200",
    "loc-kasterlee": "2460", "loc-laakdal": "2430", "loc-meerhout": "2450", "loc-mol": "2400",
    "loc-nowhere": "0000", "loc-olen": "2250", "loc-turnhout": "2300", "loc-westerlo": "2260",
}
