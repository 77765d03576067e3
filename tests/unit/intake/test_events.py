"""Intake's answers to other services' events, in memory: proposals and crisis closures."""

from __future__ import annotations

from contracts import new_event
from contracts.events import RequestSubmitted, RequestWithdrawn
from loketkit.testing import deliver_event
from services.intake.domain.model import Status
from tests.unit.intake.harness import AROUND_GEEL, NOW, Intake, closure, proposal


def crisis_requests(intake: Intake) -> list[RequestSubmitted]:
    return [event for event in intake.uow.published_data()
            if isinstance(event, RequestSubmitted) and event.urgency == "crisis"]


async def test_a_proposal_shows_on_the_request(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    assert await intake.deliver(proposal("req-1")) == "applied"
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.status is Status.PROPOSED and stored.proposed_place_id == "p-req-1"
    followed = (await intake.client.get("/requests/req-1")).json()
    assert (followed["status"], followed["match_id"], followed["proposed_location_id"]) == (
        "proposed", "m-req-1", "loc-a")


async def test_a_proposal_for_a_withdrawn_request_changes_nothing(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.client.post("/requests/req-1/withdraw")
    assert await intake.deliver(proposal("req-1")) == "applied"
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.status is Status.WITHDRAWN and stored.match_id is None


async def test_a_proposal_for_an_unknown_request_is_dead_lettered(intake: Intake) -> None:
    assert await intake.deliver(proposal("req-unknown")) == "dead-lettered"
    assert "data.request_id" in intake.dead_letters.reasons[0]


async def test_a_closure_replaces_proposed_requests_by_crisis_requests(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b", "loc-c"):
        await intake.register(location_id)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])  # req-1
    await intake.submit(preferred_location_ids=["loc-a"])  # req-2
    for request_id in ("req-1", "req-2"):
        await intake.deliver(proposal(request_id))

    assert await intake.deliver(closure("loc-a")) == "applied"

    by_old = {event.replaces_request_id: event for event in crisis_requests(intake)}
    assert by_old["req-1"].preferred_location_ids == ["loc-b"]  # the family's other choice
    assert by_old["req-2"].preferred_location_ids == ["loc-b", "loc-c"]  # the open locations
    assert {event.request_id for event in by_old.values()} == {"req-3", "req-4"}
    assert all(event.submitted_at == NOW for event in by_old.values())
    withdrawn = [event for event in intake.uow.published_data()
                 if isinstance(event, RequestWithdrawn)]
    assert {(e.request_id, e.reason) for e in withdrawn} == {
        ("req-1", "replaced_after_closure"), ("req-2", "replaced_after_closure")}
    old = await intake.uow.requests.get("req-1")
    assert old and old.status is Status.REPLACED
    assert old.replaced_by_request_id == by_old["req-1"].request_id
    new = await intake.uow.requests.get(old.replaced_by_request_id)
    assert new and new.status is Status.SUBMITTED and new.urgency == "crisis"
    assert new.child == old.child  # the family need not register again
    closed = [loc for loc in (await intake.client.get("/locations")).json() if loc["closed"]]
    assert [location["location_id"] for location in closed] == ["loc-a"]


async def test_a_closure_in_a_large_area_offers_the_ten_nearest_open_locations(
    intake: Intake,
) -> None:
    """Issue 5, part 2, point 9: with more than ten open locations, the family whose only
    choice closed used to get all of them, which RequestSubmitted refuses (at most ten),
    and the whole closure was dead-lettered: nobody was re-placed."""
    await intake.register("loc-geel", postcode="2440")
    for location_id, postcode in AROUND_GEEL.items():
        await intake.register(location_id, postcode=postcode)
    await intake.submit(preferred_location_ids=["loc-geel"])  # the family lives in 2440
    await intake.deliver(proposal("req-1", "loc-geel"))

    assert await intake.deliver(closure("loc-geel")) == "applied"

    assert intake.dead_letters.sent == []
    [crisis] = crisis_requests(intake)
    assert crisis.replaces_request_id == "req-1"
    assert crisis.preferred_location_ids == [
        "loc-meerhout", "loc-laakdal", "loc-westerlo", "loc-mol", "loc-olen",
        "loc-kasterlee", "loc-herentals", "loc-dessel", "loc-balen", "loc-turnhout",
    ]


async def test_a_closure_that_leaves_nothing_open_keeps_the_request_and_the_partition_moving(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    assert await intake.deliver(closure("loc-a")) == "applied"
    assert crisis_requests(intake) == [] and intake.dead_letters.sent == []
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.status is Status.PROPOSED


async def test_an_event_delivered_twice_is_applied_once(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    event = new_event(closure("loc-a"), source="/capacity")
    assert await deliver_event(intake.app.state.consumer, event) == "applied"
    assert await deliver_event(intake.app.state.consumer, event) == "duplicate"
    assert len(crisis_requests(intake)) == 1
