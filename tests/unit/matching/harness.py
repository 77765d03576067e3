"""The real matching app over in-memory fakes, and the events its tests send."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import httpx

from contracts import CloudEvent, EventData
from contracts.events import (
    DeclaredEnrolment,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    PriorityFacts,
    RequestAssessed,
    RequestSubmitted,
)
from contracts.events.capacity import SubsidyTier
from contracts.events.requests import Urgency
from contracts.schedule import FULL_WEEK, DayPart, full_days
from loketkit.testing import RecordingDeadLetters, deliver, deliver_event
from services.matching.bootstrap import bootstrap
from services.matching.domain.model import Match
from services.matching.settings import MatchingSettings
from tests.personas import MATCHING_USERS, signed_in
from tests.unit.matching.fakes import FakeMatchingUnitOfWork

E = TypeVar("E", bound=EventData)
AREA = "kempen-gml"
START = date(2027, 9, 1)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # what the injected clock says


WEEK: list[DayPart] = list(FULL_WEEK)
MORNINGS: list[DayPart] = ["mon_am", "tue_am", "wed_am", "thu_am", "fri_am"]


def submitted(request_id: str, *, locations: tuple[str, ...] = ("loc-a",), minutes: int = 0,
              urgency: Urgency = "normal", working: bool = False,
              siblings: tuple[str, ...] = (), area: str = AREA,
              day_parts: list[DayPart] | None = None, partial: bool = False,
              sibling_requests: tuple[str, ...] = (),
              facts: PriorityFacts | None = None, municipality: str = "13008"
              ) -> RequestSubmitted:
    return RequestSubmitted(
        service_area=area, request_id=request_id, child_ref="c" * 64,
        municipality_nis=municipality, birth_month="2026-10", desired_start_date=START,
        day_parts=day_parts or full_days(4), accepts_partial_fit=partial,
        preferred_location_ids=list(locations), sibling_request_ids=list(sibling_requests),
        priority=facts or PriorityFacts(parents_working_or_training=working,
                                        sibling_location_ids=list(siblings)),
        urgency=urgency, submitted_at=T0 + timedelta(minutes=minutes),
    )


def freed(place_id: str, location_id: str = "loc-a", available: date = START,
          area: str = AREA, day_parts: list[DayPart] | None = None) -> PlaceFreed:
    return PlaceFreed(
        service_area=area, place_id=place_id, location_id=location_id,
        municipality_nis="13053", available_from=available, min_age_months=0,
        max_age_months=36, day_parts=day_parts or WEEK, freed_at=T0,
    )


def located(location_id: str, tier: SubsidyTier, municipality_nis: str = "13053"
            ) -> LocationRegistered:
    return LocationRegistered(
        service_area=AREA, location_id=location_id, name=f"Opvang {location_id}",
        municipality_nis=municipality_nis, postcode="2440", capacity=14, subsidy_tier=tier,
        registered_at=T0)


def children_at(location_id: str, total: int, priority_group: int) -> EnrolmentsDeclared:
    """The organiser declares `total` children, `priority_group` of them from priority groups."""
    return EnrolmentsDeclared(
        service_area=AREA, location_id=location_id, municipality_nis="13053",
        enrolments=[DeclaredEnrolment(enrolment_id=f"{location_id}-e{i}", start_date=T0.date(),
                                      day_parts=WEEK, priority_group=i < priority_group)
                    for i in range(total)],
        declared_at=T0)


def assessed(request_id: str, *, vulnerable: bool = False, urgent: bool = False
             ) -> RequestAssessed:
    return RequestAssessed(service_area=AREA, request_id=request_id, municipality_nis="13008",
                           vulnerable=vulnerable, urgent=urgent, assessed_at=T0)


class Matching:
    """Feeds events through the app's real consumer (inbox, retries, dead letters) into
    the handlers, over one fake database; ids come out as match-1, match-2, ..."""

    def __init__(self) -> None:
        self.now = NOW
        self.uow = FakeMatchingUnitOfWork()
        self.dead_letters = RecordingDeadLetters()
        numbers = itertools.count(1)
        self.app = bootstrap(
            MatchingSettings(handler_backoff_seconds=0),
            uow_factory=lambda: self.uow,
            dead_letters=self.dead_letters,
            clock=lambda: self.now,
            id_factory=lambda prefix: f"{prefix}-{next(numbers)}",
        )

    async def feed(self, *items: EventData | CloudEvent) -> list[str]:
        consumer = self.app.state.consumer
        return [
            await (deliver_event(consumer, item) if isinstance(item, CloudEvent)
                   else deliver(consumer, item))
            for item in items
        ]

    def proposals(self) -> list[MatchProposed]:
        return self.published(MatchProposed)

    def published(self, kind: type[E]) -> list[E]:
        return [data for data in self.uow.published_data() if isinstance(data, kind)]

    def offered(self) -> list[tuple[str, str]]:
        """(request, place) of every proposal, in order."""
        return [(p.request_id, p.place_id) for p in self.proposals()]

    def match(self, match_id: str) -> Match:
        return self.uow.matches.rows[match_id]

    async def run_deadlines(self) -> int:
        fired: int = await self.app.state.jobs["deadlines"]()
        return fired

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://matching",
                                 auth=signed_in(self.app, MATCHING_USERS))
