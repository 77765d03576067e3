"""Confidential closures: registered without a trace outside capacity, released by
the area's coordinator, then reaching every child enrolled or offered there."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from contracts.events import CrisisClosure, EnrolmentEnded
from contracts.schedule import DAY_PARTS
from loketkit.testing import deliver
from services.capacity.domain.model import PlaceStatus
from tests.unit.capacity.conftest import NEXT_MONTH, NOW, TODAY, acceptance, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

LOCATION = {"location_id": "loc-a", "name": "De Bolleboos", "municipality_nis": "13008",
            "postcode": "2440", "capacity": 10, "subsidy_tier": "plus"}
CLOSURE = {"reason": "licence_suspended", "effective_from": str(NEXT_MONTH),
           "expected_end": str(NEXT_MONTH + timedelta(days=90))}


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


async def crisis_at_a_busy_location(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """Three declared children (one leaves before the closure, one after it), a placed
    child, an open offer and an open place; then a registered closure."""
    await client.post("/locations", json=LOCATION)
    enrolments = [
        {"enrolment_id": "own-1", "start_date": str(TODAY), "day_parts": list(DAY_PARTS)},
        {"enrolment_id": "own-2", "start_date": str(TODAY), "day_parts": ["mon_am"],
         "end_date": str(NEXT_MONTH - timedelta(days=2))},
        # leaving after the closure's date: the closure comes first
        {"enrolment_id": "own-3", "start_date": str(TODAY), "day_parts": ["tue_am"],
         "end_date": str(NEXT_MONTH + timedelta(days=20))},
    ]
    assert (await client.put("/locations/loc-a/enrolments",
                             json={"enrolments": enrolments})).status_code == 200
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(TODAY), "count": 3})
    placed, offered, _open = freed.json()["place_ids"]
    first = proposal(match_id="match-1", place_id=placed, request_id="req-1")
    await deliver(app.state.consumer, first)
    await deliver(app.state.consumer, acceptance(first))
    await client.post("/offers/match-1/confirm", json={})
    await deliver(app.state.consumer,
                  proposal(match_id="match-2", place_id=offered, request_id="req-2"))
    registered = await client.post("/locations/loc-a/closures", json=CLOSURE)
    assert registered.status_code == 201, registered.text
    closure_id: str = registered.json()["closure_id"]
    return {"closure_id": closure_id, "open": _open}


async def test_a_registered_closure_publishes_nothing_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    published = len(uow.published)
    await client.post("/locations", json=LOCATION)
    published = len(uow.published)
    registered = await client.post("/locations/loc-a/closures", json=CLOSURE)
    assert registered.status_code == 201
    assert registered.json()["status"] == "registered"
    assert registered.json()["affected_enrolments"] == []
    assert len(uow.published) == published
    # The location still takes free places, so nothing leaks.
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(NEXT_MONTH)})
    assert freed.status_code == 201
    assert (await client.get("/locations/loc-a")).json()["closed"] is False
    listed = (await client.get("/closures?service_area=kempen-gml")).json()
    assert [c["closure_id"] for c in listed] == [registered.json()["closure_id"]]
    assert (await client.get("/closures?service_area=elders")).json() == []
    twice = await client.post("/locations/loc-a/closures", json=CLOSURE)
    assert (twice.status_code, fields(twice)) == (409, ["location_id"])


async def test_releasing_reaches_every_child_enrolled_or_offered_from_the_effective_date(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    ids = await crisis_at_a_busy_location(app, client)
    published = len(uow.published)
    released = await client.post(f"/closures/{ids['closure_id']}/release")
    assert released.status_code == 200, released.text
    view = released.json()
    assert (view["status"], view["released_at"][:10]) == ("released", NOW.date().isoformat())
    affected = sorted((e["enrolment_id"], e["request_id"]) for e in view["affected_enrolments"]
                      if e["enrolment_id"].startswith("own"))
    assert affected == [("own-1", None), ("own-3", None)]  # own-2 left before the closure
    assert [e["request_id"] for e in view["affected_enrolments"]
            if not e["enrolment_id"].startswith("own")] == ["req-1"]
    assert [(o["match_id"], o["request_id"]) for o in view["open_offers"]] == [
        ("match-2", "req-2")]
    assert view["cancelled_place_ids"] == sorted([ids["open"], view["open_offers"][0][
        "place_id"]])
    events = uow.published_data()[published:]
    [crisis] = [e for e in events if isinstance(e, CrisisClosure)]
    assert (crisis.closure_id, crisis.announced_at, crisis.effective_from) == (
        ids["closure_id"], NOW, NEXT_MONTH)
    assert crisis.expected_end == NEXT_MONTH + timedelta(days=90)
    ended = [e for e in events if isinstance(e, EnrolmentEnded)]
    assert {(e.reason, e.ended_on) for e in ended} == {("location_closed", NEXT_MONTH)}
    assert len(ended) == 3
    assert uow.places.places[ids["open"]].status is PlaceStatus.CANCELLED
    assert (await client.get("/locations/loc-a")).json()["closed"] is True
    assert (await client.get(f"/closures/{ids['closure_id']}")).json() == view
    again = await client.post(f"/closures/{ids['closure_id']}/release")
    assert (again.status_code, fields(again)) == (409, ["closure_id"])
    refused = await client.post("/locations/loc-a/free-places",
                                json={"available_from": str(NEXT_MONTH)})
    assert (refused.status_code, fields(refused)) == (409, ["location_id"])


async def test_closure_input_is_checked(client: httpx.AsyncClient) -> None:
    await client.post("/locations", json=LOCATION)
    backwards = CLOSURE | {"expected_end": str(NEXT_MONTH - timedelta(days=1))}
    refused = await client.post("/locations/loc-a/closures", json=backwards)
    assert (refused.status_code, fields(refused)) == (422, ["expected_end"])
    bad = await client.post("/locations/loc-a/closures", json=CLOSURE | {"reason": "holiday"})
    assert (bad.status_code, fields(bad)) == (422, ["reason"])
    nowhere = await client.post("/locations/loc-x/closures", json=CLOSURE)
    assert (nowhere.status_code, fields(nowhere)) == (404, ["location_id"])
    unknown = await client.post("/closures/closure-x/release")
    assert (unknown.status_code, fields(unknown)) == (404, ["closure_id"])
    assert (await client.get("/closures/closure-x")).status_code == 404


async def test_the_old_one_step_closure_route_is_gone(client: httpx.AsyncClient) -> None:
    await client.post("/locations", json=LOCATION)
    gone = await client.post("/locations/loc-a/closure", json=CLOSURE)
    assert gone.status_code in (404, 405)
