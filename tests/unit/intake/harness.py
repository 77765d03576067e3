"""What intake's tests share: a request body, events to deliver, and the app under test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI

from contracts.events import (
    CrisisClosure,
    EnrolmentEnded,
    EventData,
    LocationRegistered,
    MatchCancelled,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    MatchReminderDue,
    PlacementConfirmed,
)
from contracts.events.matching import CancelReason
from loketkit.mail import Notice
from loketkit.testing import RecordingDeadLetters, deliver
from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from tests.personas import INTAKE_USERS, signed_in
from tests.unit.intake.fakes import FakeIntakeUnitOfWork

AREA = "kempen-gml"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAMILY_DUE = NOW + timedelta(days=7)
CHILD: dict[str, object] = {"first_name": "Lotte", "last_name": "Peeters",
                            "birth_date": "2026-10-12", "national_number": "26101212345"}
PARENT: dict[str, object] = {"name": "An Peeters", "email": "an@example.be",
                             "phone": "+32 470 00 00 00", "street": "Markt 1", "postcode": "2440"}
REQUEST: dict[str, object] = {
    "child": CHILD,
    "parent": PARENT,
    "municipality_nis": "13008",
    "desired_start_date": "2027-09-01",
    "day_parts": ["mon_am", "mon_pm", "tue_am", "tue_pm"],
    "preferred_location_ids": ["loc-a"],
    "priority": {"parents_working_or_training": True},
    "sworn_statement": True,
    "share_contact_with_organiser": True,
}
PERSONAL = ("Lotte", "Peeters", "26101212345", "an@example.be", "Markt")


@dataclass
class Clock:
    """The injected clock: tests move it."""

    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Intake:
    """The app and what the tests look at behind it."""

    app: FastAPI
    client: httpx.AsyncClient
    uow: FakeIntakeUnitOfWork
    dead_letters: RecordingDeadLetters
    clock: Clock

    async def deliver(self, data: EventData) -> str:
        return await deliver(self.app.state.consumer, data)

    async def register(self, location_id: str, postcode: str = "2440",
                       name: str = "KDV") -> None:
        outcome = await self.deliver(LocationRegistered(
            service_area=AREA, location_id=location_id, name=name, municipality_nis="13008",
            postcode=postcode, capacity=10, subsidy_tier="basic", registered_at=NOW,
            organiser_id="org-zonneke"))
        assert outcome == "applied"

    async def submit(self, **changes: object) -> httpx.Response:
        return await self.client.post("/requests", json=REQUEST | changes)

    async def follow(self, request_id: str) -> dict[str, object]:
        response = await self.client.get(f"/requests/{request_id}")
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body

    async def states(self, request_id: str) -> dict[str, str]:
        body = await self.follow(request_id)
        choices = body["choices"]
        assert isinstance(choices, list)
        return {choice["location_id"]: choice["state"] for choice in choices}

    def kinds(self) -> list[str]:
        """The notices sent after registration (its personal-link mail aside)."""
        return [notice.kind for notice in self.notices()]

    def notices(self) -> list[Notice]:
        return [notice for notice in self.uow.notices.rows if notice.kind != "personal_link"]


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


def offer_ids(request_id: str, location_id: str) -> dict[str, str]:
    return {"match_id": f"m-{request_id}-{location_id}", "request_id": request_id,
            "place_id": f"p-{request_id}-{location_id}", "location_id": location_id}


def proposal(request_id: str, location_id: str = "loc-a",
             due: datetime = FAMILY_DUE) -> MatchProposed:
    return MatchProposed(
        service_area=AREA, **offer_ids(request_id, location_id),
        location_municipality_nis="13008", request_municipality_nis="13008",
        urgency="normal", ordering="x", start_date=date(2027, 9, 1),
        day_parts=["mon_am", "mon_pm", "tue_am", "tue_pm"],
        requested_day_parts=["mon_am", "mon_pm", "tue_am", "tue_pm"],
        family_answer_due=due, organiser_answer_due=due + timedelta(days=7), proposed_at=NOW)


def _offer_event(request_id: str, location_id: str) -> dict[str, object]:
    return {"service_area": AREA, **offer_ids(request_id, location_id),
            "location_municipality_nis": "13008", "request_municipality_nis": "13008"}


def expired(request_id: str, location_id: str = "loc-a") -> MatchExpired:
    return MatchExpired.model_validate(_offer_event(request_id, location_id) | {
        "family_answer_due": FAMILY_DUE, "expired_at": FAMILY_DUE})


def cancelled(request_id: str, location_id: str = "loc-a",
              reason: CancelReason = "location_closed") -> MatchCancelled:
    return MatchCancelled.model_validate(_offer_event(request_id, location_id) | {
        "reason": reason, "cancelled_at": NOW})


def reminder(request_id: str, location_id: str = "loc-a",
             addressee: str = "family") -> MatchReminderDue:
    return MatchReminderDue.model_validate(_offer_event(request_id, location_id) | {
        "addressee": addressee, "answer_due": FAMILY_DUE, "reminded_at": NOW})


def refused(request_id: str, location_id: str = "loc-a") -> MatchRefused:
    return MatchRefused(service_area=AREA, **offer_ids(request_id, location_id),
                        municipality_nis="13008", reason="age_group_full", refused_at=NOW)


def placed(request_id: str, location_id: str = "loc-a") -> PlacementConfirmed:
    return PlacementConfirmed(
        service_area=AREA, **offer_ids(request_id, location_id), municipality_nis="13008",
        enrolment_id=f"e-{request_id}", start_date=date(2027, 9, 1),
        day_parts=["mon_am", "mon_pm", "tue_am", "tue_pm"], confirmed_at=NOW)


def enrolment_ended(request_id: str, location_id: str = "loc-a",
                    ended_on: date = date(2026, 11, 1)) -> EnrolmentEnded:
    return EnrolmentEnded(service_area=AREA, enrolment_id=f"e-{request_id}",
                          location_id=location_id, municipality_nis="13008",
                          request_id=request_id, ended_on=ended_on, reason="left",
                          recorded_at=NOW)


def closure(location_id: str, effective_from: date = date(2026, 12, 1),
            closure_id: str = "c-1") -> CrisisClosure:
    return CrisisClosure(service_area=AREA, closure_id=closure_id, location_id=location_id,
                         municipality_nis="13008", reason="licence_revoked",
                         effective_from=effective_from, announced_at=NOW)


# Around Geel (2440), by straight-line distance: Meerhout 6.9 km, Laakdal 8.3,
# Westerlo 8.6, Mol 9.1, Olen 9.3, Kasterlee 9.8, Herentals 11.1, Dessel 12.2,
# Balen 14.2, Turnhout 18.3, Brugge 123; postcode 0000 has no coordinates.
AROUND_GEEL = {
    "loc-balen": "2490", "loc-brugge": "8000", "loc-dessel": "2480", "loc-herentals": "2200",
    "loc-kasterlee": "2460", "loc-laakdal": "2430", "loc-meerhout": "2450", "loc-mol": "2400",
    "loc-nowhere": "0000", "loc-olen": "2250", "loc-turnhout": "2300", "loc-westerlo": "2260",
}


@asynccontextmanager
async def new_intake() -> AsyncIterator[Intake]:
    """The real intake app over in-memory fakes: fixed clock, counted ids, recorded dead
    letters; its client signs in as the person a real user of each route would be."""
    uow = FakeIntakeUnitOfWork()
    dead_letters = RecordingDeadLetters()
    counters: dict[str, itertools.count[int]] = {}
    clock = Clock()

    def new_id(prefix: str) -> str:
        return f"{prefix}-{next(counters.setdefault(prefix, itertools.count(1)))}"

    app = bootstrap(IntakeSettings(), uow_factory=lambda: uow, dead_letters=dead_letters,
                    clock=clock, id_factory=new_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake",
                                 auth=signed_in(app, INTAKE_USERS)) as client:
        yield Intake(app, client, uow, dead_letters, clock)
