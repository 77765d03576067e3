"""Matching's behaviour, in memory: who gets a free place, and never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import (
    CrisisClosure,
    MatchProposed,
    PlaceFreed,
    PriorityFacts,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.consumer import EventConsumer, Origin
from services.matching import handlers
from tests.unit.matching.fakes import FakeMatchingUnitOfWork

AREA = "kempen-gml"
START = date(2027, 9, 1)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def submitted(request_id: str, *, locations: tuple[str, ...] = ("loc-a",), minutes: int = 0,
              urgency: str = "normal", working: bool = False,
              siblings: tuple[str, ...] = ()) -> RequestSubmitted:
    return RequestSubmitted(
        service_area=AREA, request_id=request_id, child_ref="c" * 64,
        municipality_nis="13008", birth_month="2026-10", desired_start_date=START,
        days_per_week=4, preferred_location_ids=list(locations),
        priority=PriorityFacts(parents_working_or_training=working,
                               sibling_location_ids=list(siblings)),
        urgency=urgency, submitted_at=T0 + timedelta(minutes=minutes),  # type: ignore[arg-type]
    )


def freed(place_id: str, location_id: str = "loc-a", available: date = START) -> PlaceFreed:
    return PlaceFreed(
        service_area=AREA, place_id=place_id, location_id=location_id,
        municipality_nis="13053", available_from=available, min_age_months=0,
        max_age_months=36, freed_at=T0,
    )


class Harness:
    """Feeds events through the real consumer (inbox, retries) into the handlers."""

    def __init__(self) -> None:
        self.uow = FakeMatchingUnitOfWork()
        self.dead: list[dict[str, str]] = []
        self.consumer = EventConsumer(
            "matching",
            {RequestSubmitted: handlers.on_request_submitted,
             RequestWithdrawn: handlers.on_request_withdrawn,
             PlaceFreed: handlers.on_place_freed,
             CrisisClosure: handlers.on_crisis_closure},
            lambda: self.uow, self, backoff_seconds=0,
        )

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.dead.append(headers)

    async def feed(self, *events: object) -> list[str]:
        outcomes = []
        for item in events:
            event = item if isinstance(item, CloudEvent) else new_event(item, source="/test")  # type: ignore[arg-type]
            _, value, headers = to_kafka(event)
            outcomes.append(await self.consumer.consume(value, headers, Origin("t", 0, 0, None)))
        return outcomes

    def proposals(self) -> list[MatchProposed]:
        return [e for e in self.uow.published_data() if isinstance(e, MatchProposed)]


async def test_a_request_and_a_free_place_make_a_proposal() -> None:
    h = Harness()
    await h.feed(submitted("r1"), freed("p1"))
    [proposal] = h.proposals()
    assert (proposal.request_id, proposal.place_id, proposal.location_id) == ("r1", "p1", "loc-a")
    assert proposal.location_municipality_nis == "13053"
    assert proposal.request_municipality_nis == "13008"


async def test_a_place_freed_before_the_request_is_proposed_when_it_arrives() -> None:
    h = Harness()
    await h.feed(freed("p1"), submitted("r1"))
    assert [p.place_id for p in h.proposals()] == ["p1"]


async def test_one_place_is_never_proposed_twice() -> None:
    h = Harness()
    place = new_event(freed("p1"), source="/test")
    again_other_id = freed("p1")
    outcomes = await h.feed(submitted("r1"), submitted("r2"), place, place, again_other_id)
    assert outcomes[3] == "duplicate"
    assert [p.request_id for p in h.proposals()] == ["r1"]


async def test_priority_facts_come_before_registration_order() -> None:
    h = Harness()
    await h.feed(submitted("early"), submitted("working", minutes=5, working=True), freed("p1"))
    assert [p.request_id for p in h.proposals()] == ["working"]


async def test_crisis_requests_come_first_and_ignore_the_start_window() -> None:
    h = Harness()
    await h.feed(submitted("normal", working=True),
                 submitted("crisis", minutes=9, urgency="crisis"),
                 freed("p1", available=START + timedelta(days=200)))
    # the normal request does not fit a place 200 days late; the crisis one does
    assert [p.request_id for p in h.proposals()] == ["crisis"]


async def test_no_proposal_outside_the_age_range_or_the_chosen_locations() -> None:
    h = Harness()
    late_place = PlaceFreed(**{**freed("p-young").model_dump(), "min_age_months": 18})
    await h.feed(submitted("r1"), late_place, freed("p-elsewhere", location_id="loc-b"))
    assert h.proposals() == []


async def test_a_withdrawn_proposal_goes_to_the_next_in_line() -> None:
    h = Harness()
    await h.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"))
    withdrawn = RequestWithdrawn(service_area=AREA, request_id="r1", municipality_nis="13008",
                                 reason="by_family", withdrawn_at=T0)
    await h.feed(withdrawn)
    assert [(p.request_id, p.place_id) for p in h.proposals()] == [("r1", "p1"), ("r2", "p1")]


async def test_a_closed_location_gets_no_more_proposals() -> None:
    h = Harness()
    closure = CrisisClosure(service_area=AREA, closure_id="c1", location_id="loc-a",
                            municipality_nis="13053", reason="licence_suspended",
                            effective_from=START, announced_at=T0)
    await h.feed(closure, submitted("r1"), freed("p1"))
    assert h.proposals() == []


async def test_a_malformed_event_is_dead_lettered_and_the_next_one_handled() -> None:
    h = Harness()
    outcome = await h.consumer.consume(b"{not json", [("ce_specversion", b"1.0")],
                                       Origin("loket.capacity.v1", 2, 41, b"k"))
    assert outcome == "dead-lettered"
    assert h.dead[0]["dlq_original_offset"] == "41"
    assert "not JSON" in h.dead[0]["dlq_reason"]
    assert await h.feed(submitted("r1")) == ["applied"]
