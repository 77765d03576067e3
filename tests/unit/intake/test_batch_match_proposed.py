"""A burst of MatchProposed in one Kafka batch (`on_matches_proposed`) has the effect of
`on_match_proposed` on each in turn: the same requests and offers, notices, published
events (in order, with the same cause) and audit records; a run naming a request intake
does not know falls back to one by one, so only that event is dead-lettered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from contracts import CloudEvent, new_event
from contracts.events import MatchProposed, RequestSubmitted, RequestUpdated
from loketkit.testing import deliver_batch, deliver_event
from services.intake.handlers import EVENT_BATCH_HANDLERS, EVENT_HANDLERS, on_matches_proposed
from tests.unit.intake.harness import PARENT, Intake, closure, new_intake, proposal, refused

MATCHING = "/loket/matching"


@asynccontextmanager
async def prepared() -> AsyncIterator[Intake]:
    """Four locations, loc-d closed (nobody held an offer there yet), and six requests:
    req-2 and req-3 twins, req-4 without e-mail, req-5 withdrawn, req-6 with a refusal
    read before its offer."""
    async with new_intake() as intake:
        for location_id in ("loc-a", "loc-b", "loc-c", "loc-d"):
            await intake.register(location_id)
        await intake.submit(preferred_location_ids=["loc-a", "loc-b"])  # req-1
        await intake.submit(preferred_location_ids=["loc-d", "loc-b", "loc-a"])  # req-2
        await intake.submit(preferred_location_ids=["loc-d", "loc-a"])  # req-3
        await intake.submit(parent=PARENT | {"email": None})  # req-4
        await intake.submit(preferred_location_ids=["loc-b"])  # req-5
        await intake.submit()  # req-6
        linked = await intake.client.post("/requests/req-2/siblings",
                                          json={"request_id": "req-3"})
        assert linked.status_code == 200, linked.json()
        assert (await intake.client.post("/requests/req-5/withdraw")).status_code == 200
        assert await intake.deliver(refused("req-6")) == "applied"
        assert await intake.deliver(closure("loc-d")) == "applied"
        yield intake


def burst() -> list[CloudEvent]:
    proposals = [
        proposal("req-1", "loc-a"),
        proposal("req-2", "loc-b"),
        proposal("req-1", "loc-b"),  # a second offer to req-1: it sees the first
        proposal("req-3", "loc-d"),  # closed: req-3 is re-placed, req-2 relinked to it
        proposal("req-2", "loc-a"),  # after the re-placement: sees the new sibling link
        proposal("req-1", "loc-a"),  # the same match again, a new envelope
        proposal("req-4", "loc-b"),  # no e-mail: an offer, no notice
        proposal("req-5", "loc-b"),  # withdrawn: nothing
        proposal("req-6", "loc-a"),  # completes the offer known from its refusal
    ]
    return [new_event(data, source=MATCHING) for data in proposals]


def effect(intake: Intake, notice_ids: bool = True) -> dict[str, object]:
    """What the tests compare (the setup's own event ids and audit times differ)."""
    uow = intake.uow
    return {
        "requests": uow.requests.rows,
        "notices": [n.model_dump(exclude=None if notice_ids else {"notice_id"})
                    for n in uow.notices.rows],
        "published": [(e.type, e.subject, e.causationid,
                       e.correlationid if e.causationid else None, e.data)
                      for e in uow.published],
        "audit": (uow.audit.rows,
                  [(r.subject, r.role, r.action, r.object_type, r.object_id, r.service_area)
                   for r in uow.audit_trail.rows]),
        "applied": {event_id for source, event_id in uow.applied if source == MATCHING},
    }


async def test_a_run_has_the_effect_of_its_events_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = burst()
    async with prepared() as sequential, prepared() as batched:
        for event in events:
            assert await deliver_event(sequential.app.state.consumer, event) == "applied"
        commits = batched.uow.commits
        outcomes = await deliver_batch(batched.app.state.consumer, events)

        assert outcomes == ["applied"] * len(events)
        assert batched.uow.commits == commits + 1, "one unit of work for the batch"
        assert "one by one" not in caplog.text
        assert effect(batched) == effect(sequential)

        # What the run did, so that the comparison above compares something.
        stored = batched.uow.requests.rows
        assert [o.match_id for o in stored["req-1"].offers] == ["m-req-1-loc-a",
                                                                "m-req-1-loc-b"]
        crisis = [e for e in batched.uow.published_data()
                  if isinstance(e, RequestSubmitted) and e.urgency == "crisis"]
        assert [(e.request_id, e.replaces_request_id) for e in crisis] == [("req-7", "req-3")]
        assert stored["req-2"].sibling_request_ids == ("req-7",)
        assert [o.match_id for o in stored["req-2"].offers] == ["m-req-2-loc-b",
                                                                "m-req-2-loc-a"]
        caused = [(e.type, e.subject) for e in batched.uow.published
                  if e.causationid == events[3].id]
        assert (RequestUpdated.event_type(), "req-2") in caused  # the twin's new link
        assert stored["req-5"].offers == []
        assert [o.day_parts for o in stored["req-6"].offers] != [()]
        made = batched.uow.notices.of_kind("offer_made")
        assert [n.recipient for n in made] == ["an@example.be"] * 4  # req-1 and req-2, twice
        assert len({n.notice_id for n in made}) == 4


async def test_an_unknown_request_in_a_run_ends_as_it_would_one_by_one() -> None:
    events = burst()
    events.insert(2, new_event(proposal("req-unknown"), source=MATCHING))
    async with prepared() as sequential, prepared() as batched:
        outcomes = [await deliver_event(sequential.app.state.consumer, event)
                    for event in events]
        assert await deliver_batch(batched.app.state.consumer, events) == outcomes
        assert outcomes.count("dead-lettered") == 1
        # The failed batch drew notice ids from the counter first (real ones are random).
        assert effect(batched, notice_ids=False) == effect(sequential, notice_ids=False)
        assert batched.dead_letters.reasons == sequential.dead_letters.reasons


def test_the_batch_handler_takes_the_proposals() -> None:
    assert {MatchProposed: on_matches_proposed} == EVENT_BATCH_HANDLERS
    assert MatchProposed in EVENT_HANDLERS
