"""A released crisis closure re-places every affected child, whatever order the events
arrive in across topics, once per closure; erasure reaches every copy."""

from __future__ import annotations

from datetime import date, timedelta

from contracts import new_event
from contracts.events import RequestSubmitted, RequestUpdated, RequestWithdrawn
from loketkit.testing import deliver_event
from services.intake.domain.model import Status
from tests.unit.intake.harness import (
    AROUND_GEEL,
    NOW,
    PERSONAL,
    Intake,
    cancelled,
    closure,
    enrolment_ended,
    placed,
    proposal,
)

EFFECTIVE = date(2026, 12, 1)


def crisis_requests(intake: Intake) -> list[RequestSubmitted]:
    return [event for event in intake.uow.published_data()
            if isinstance(event, RequestSubmitted) and event.urgency == "crisis"]


async def three_locations(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b", "loc-c"):
        await intake.register(location_id)


async def test_a_closure_replaces_children_with_an_offer_there(intake: Intake) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])  # req-1
    await intake.submit(preferred_location_ids=["loc-a"])  # req-2
    for request_id in ("req-1", "req-2"):
        await intake.deliver(proposal(request_id))

    intake.clock.now = NOW + timedelta(days=3)
    assert await intake.deliver(closure("loc-a")) == "applied"

    by_old = {event.replaces_request_id: event for event in crisis_requests(intake)}
    assert by_old["req-1"].preferred_location_ids == ["loc-b"]  # the family's other choice
    assert by_old["req-2"].preferred_location_ids == ["loc-b", "loc-c"]  # the open locations
    assert {event.request_id for event in by_old.values()} == {"req-3", "req-4"}
    # the original registration date, a place from the closure's effective date
    assert all(event.submitted_at == NOW for event in by_old.values())
    assert all(event.desired_start_date == EFFECTIVE for event in by_old.values())
    assert by_old["req-1"].day_parts == ["mon_am", "mon_pm", "tue_am", "tue_pm"]
    withdrawn = [event for event in intake.uow.published_data()
                 if isinstance(event, RequestWithdrawn)]
    assert {(e.request_id, e.reason) for e in withdrawn} == {
        ("req-1", "replaced_after_closure"), ("req-2", "replaced_after_closure")}
    old = await intake.uow.requests.get("req-1")
    assert old and old.status is Status.REPLACED
    assert old.replaced_by_request_id == by_old["req-1"].request_id
    new = await intake.uow.requests.get(old.replaced_by_request_id)
    assert new and new.status is Status.WAITING and new.urgency == "crisis"
    assert new.child == old.child and new.contact == old.contact  # no need to register again
    closed = [loc for loc in (await intake.client.get("/locations")).json() if loc["closed"]]
    assert [location["location_id"] for location in closed] == ["loc-a"]


async def test_a_child_enrolled_there_is_replaced_and_one_that_left_is_not(
    intake: Intake,
) -> None:
    await three_locations(intake)
    await intake.submit()  # req-1: enrolled at loc-a
    await intake.submit()  # req-2: enrolled at loc-a, left before the closure
    await intake.submit(preferred_location_ids=["loc-b"])  # req-3: nothing to do with loc-a
    for request_id in ("req-1", "req-2"):
        await intake.deliver(proposal(request_id))
        await intake.client.post(f"/requests/{request_id}/offers/m-{request_id}-loc-a/accept")
        await intake.deliver(placed(request_id))
    await intake.deliver(enrolment_ended("req-2", ended_on=EFFECTIVE - timedelta(days=10)))

    await intake.deliver(closure("loc-a", EFFECTIVE))

    assert [event.replaces_request_id for event in crisis_requests(intake)] == ["req-1"]
    assert crisis_requests(intake)[0].preferred_location_ids == ["loc-b", "loc-c"]
    stored = await intake.uow.requests.get("req-2")
    assert stored and stored.status is Status.PLACED


async def test_a_child_placed_there_keeps_the_choices_its_placement_had_closed(
    intake: Intake,
) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-c"])
    await intake.deliver(proposal("req-1"))
    await intake.client.post("/requests/req-1/offers/m-req-1-loc-a/accept")
    await intake.deliver(placed("req-1"))
    assert await intake.states("req-1") == {"loc-a": "placed", "loc-c": "closed"}

    await intake.deliver(closure("loc-a", EFFECTIVE))

    [crisis] = crisis_requests(intake)
    assert crisis.preferred_location_ids == ["loc-c"]


async def test_twins_at_a_closed_location_stay_linked_in_their_crisis_requests(
    intake: Intake,
) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])  # req-1
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])  # req-2
    assert (await intake.client.post("/requests/req-1/siblings",
                                     json={"request_id": "req-2"})).status_code == 200
    for request_id in ("req-1", "req-2"):
        await intake.deliver(proposal(request_id))

    await intake.deliver(closure("loc-a"))

    by_old = {event.replaces_request_id: event.request_id for event in crisis_requests(intake)}
    first = await intake.uow.requests.get(by_old["req-1"])
    second = await intake.uow.requests.get(by_old["req-2"])
    assert first and second
    assert first.sibling_request_ids == (second.request_id,)
    assert second.sibling_request_ids == (first.request_id,)
    updated = [e for e in intake.uow.published_data() if isinstance(e, RequestUpdated)]
    assert updated[-1].sibling_request_ids in ([first.request_id], [second.request_id])


async def test_an_offer_read_after_the_closure_replaces_the_child_at_once(
    intake: Intake,
) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.deliver(closure("loc-a"))
    assert crisis_requests(intake) == []

    assert await intake.deliver(proposal("req-1")) == "applied"

    [crisis] = crisis_requests(intake)
    assert (crisis.replaces_request_id, crisis.preferred_location_ids) == ("req-1", ["loc-b"])
    assert "offer_made" not in intake.kinds()  # no offer at a closed location
    old = await intake.uow.requests.get("req-1")
    assert old and old.offers[0].cancel_reason == "location_closed"


async def test_a_placement_read_after_the_closure_replaces_the_child_at_once(
    intake: Intake,
) -> None:
    await three_locations(intake)
    await intake.submit()
    await intake.deliver(closure("loc-a"))
    await intake.deliver(placed("req-1"))
    [crisis] = crisis_requests(intake)
    assert crisis.replaces_request_id == "req-1"
    assert "placed" not in intake.kinds()


async def test_a_cancellation_read_before_the_closure_is_remembered(intake: Intake) -> None:
    await three_locations(intake)
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    await intake.deliver(cancelled("req-1", reason="location_closed"))
    assert crisis_requests(intake) == []

    await intake.deliver(closure("loc-a"))

    [crisis] = crisis_requests(intake)
    assert crisis.replaces_request_id == "req-1"


async def test_each_child_is_replaced_once_per_closure(intake: Intake) -> None:
    await three_locations(intake)
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    await intake.deliver(closure("loc-a"))
    # the same closure again (a new envelope), then matching's late cancellation
    await intake.deliver(closure("loc-a"))
    await intake.deliver(cancelled("req-1", reason="location_closed"))
    await intake.deliver(placed("req-1"))
    assert len(crisis_requests(intake)) == 1


async def test_a_closure_that_leaves_nothing_open_puts_the_child_on_the_loket_list(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    assert await intake.deliver(closure("loc-a")) == "applied"
    assert crisis_requests(intake) == [] and intake.dead_letters.sent == []
    listed = (await intake.client.get("/requests", params={"needs_loket": "true"})).json()
    assert [(r["request_id"], r["needs_loket_for_closure_id"]) for r in listed] == [
        ("req-1", "c-1")]
    await intake.deliver(closure("loc-a"))  # again: still once on the list
    assert len((await intake.client.get("/requests?needs_loket=true")).json()) == 1


async def test_a_closure_in_a_large_area_offers_the_ten_nearest_open_locations(
    intake: Intake,
) -> None:
    await intake.register("loc-geel", postcode="2440")
    for location_id, postcode in AROUND_GEEL.items():
        await intake.register(location_id, postcode=postcode)
    await intake.submit(preferred_location_ids=["loc-geel"])  # the family lives in 2440
    await intake.deliver(proposal("req-1", "loc-geel"))

    assert await intake.deliver(closure("loc-geel")) == "applied"

    assert intake.dead_letters.sent == []
    [crisis] = crisis_requests(intake)
    assert crisis.preferred_location_ids == [
        "loc-meerhout", "loc-laakdal", "loc-westerlo", "loc-mol", "loc-olen",
        "loc-kasterlee", "loc-herentals", "loc-dessel", "loc-balen", "loc-turnhout",
    ]


async def test_a_registered_location_again_stays_closed(intake: Intake) -> None:
    await three_locations(intake)
    await intake.deliver(closure("loc-a"))
    await intake.register("loc-a")
    closed = [loc["location_id"] for loc in (await intake.client.get("/locations")).json()
              if loc["closed"]]
    assert closed == ["loc-a"]


async def test_erasure_reaches_the_whole_chain(intake: Intake) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.deliver(proposal("req-1"))
    await intake.deliver(closure("loc-a"))
    crisis_id = crisis_requests(intake)[0].request_id

    erased = await intake.client.delete("/requests/req-1/personal-data")  # the old one

    assert erased.status_code == 200 and erased.json()["erased_at"]
    for request_id in ("req-1", crisis_id):
        stored = await intake.uow.requests.get(request_id)
        assert stored and stored.erased_at is not None
        for personal in PERSONAL:
            assert personal not in repr(stored)
    crisis = await intake.uow.requests.get(crisis_id)
    assert crisis and crisis.status is Status.WITHDRAWN
    withdrawn = [e for e in intake.uow.published_data() if isinstance(e, RequestWithdrawn)]
    assert (crisis_id, "by_family") in {(e.request_id, e.reason) for e in withdrawn}


async def test_erasing_the_crisis_request_erases_the_one_it_replaced(intake: Intake) -> None:
    await three_locations(intake)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.deliver(proposal("req-1"))
    event = new_event(closure("loc-a"), source="/capacity")
    await deliver_event(intake.app.state.consumer, event)
    crisis_id = crisis_requests(intake)[0].request_id
    await intake.client.delete(f"/requests/{crisis_id}/personal-data")
    old = await intake.uow.requests.get("req-1")
    assert old and old.erased_at is not None and "Lotte" not in repr(old)
