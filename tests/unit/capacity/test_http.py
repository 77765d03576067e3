"""Capacity's HTTP routes on the real app over in-memory fakes: status codes, the
field at fault, and retried POSTs that do not create twins."""

from __future__ import annotations

import httpx

from contracts.events import LocationRegistered, PlaceFreed
from tests.unit.capacity.conftest import NEXT_MONTH
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

LOCATION = {"location_id": "loc-a", "name": "De Bolleboos", "municipality_nis": "13008",
            "postcode": "2440", "capacity": 2, "subsidy_tier": "plus"}
PLACES = "/locations/loc-a/free-places"


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_register_then_read_a_location(client: httpx.AsyncClient) -> None:
    created = await client.post("/locations", json=LOCATION)
    assert created.status_code == 201
    assert created.json()["max_age_months"] == 36
    assert created.json()["service_area"] == "kempen-gml"
    assert (await client.get("/locations/loc-a")).json() == created.json()
    listed = (await client.get("/locations")).json()
    assert [location["location_id"] for location in listed] == ["loc-a"]
    generated = await client.post("/locations", json=LOCATION | {"location_id": None})
    assert generated.status_code == 201
    assert generated.json()["location_id"].startswith("loc-")


async def test_bad_input_names_the_field(client: httpx.AsyncClient) -> None:
    assert (await client.post("/locations", json=LOCATION)).status_code == 201
    duplicate = await client.post("/locations", json=LOCATION)
    assert (duplicate.status_code, fields(duplicate)) == (409, ["location_id"])
    elsewhere = LOCATION | {"location_id": "loc-b", "municipality_nis": "11002"}
    outside = await client.post("/locations", json=elsewhere)
    assert (outside.status_code, fields(outside)) == (422, ["municipality_nis"])
    malformed = LOCATION | {"subsidy_tier": "gold", "postcode": "1"}
    invalid = await client.post("/locations", json=malformed)
    assert invalid.status_code == 422
    assert set(fields(invalid)) == {"subsidy_tier", "postcode"}
    unknown = await client.get("/locations/loc-nowhere")
    assert (unknown.status_code, fields(unknown)) == (404, ["location_id"])


async def test_a_nul_in_the_name_is_refused_naming_the_field(
    client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    refused = await client.post("/locations", json=LOCATION | {"name": "De Bolle\u0000boos"})
    assert (refused.status_code, fields(refused)) == (422, ["name"])
    assert "\u0000" not in refused.text  # the value is not echoed back
    assert uow.published == []


async def test_long_text_is_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    too_long = await client.post("/locations", json=LOCATION | {"name": "x" * 201})
    assert (too_long.status_code, fields(too_long)) == (422, ["name"])


async def test_free_places_licence_and_occupancy(client: httpx.AsyncClient) -> None:
    await client.post("/locations", json=LOCATION)
    freed = await client.post(PLACES, json={"available_from": str(NEXT_MONTH), "count": 2})
    assert freed.status_code == 201
    assert len(freed.json()["place_ids"]) == 2
    full = await client.post(PLACES, json={"available_from": str(NEXT_MONTH)})
    assert (full.status_code, fields(full)) == (409, ["day_parts"])
    too_many = await client.post(PLACES, json={"available_from": str(NEXT_MONTH), "count": 51})
    assert (too_many.status_code, fields(too_many)) == (422, ["count"])
    bad_part = await client.post(PLACES, json={"available_from": str(NEXT_MONTH),
                                               "day_parts": ["sat_am"]})
    assert (bad_part.status_code, fields(bad_part)) == (422, ["day_parts.0"])
    raised = await client.put("/locations/loc-a/capacity", json={"licensed_places": 3})
    assert (raised.status_code, raised.json()["licensed_places"]) == (200, 3)
    assert raised.json()["capacity"] == 2  # as registered
    morning = await client.post(PLACES, json={"available_from": str(NEXT_MONTH),
                                              "day_parts": ["mon_am"]})
    assert morning.status_code == 201
    occupancy = (await client.get(f"/locations/loc-a/occupancy?on={NEXT_MONTH}")).json()
    by_part = {p["day_part"]: p for p in occupancy["day_parts"]}
    assert by_part["mon_am"] == {"day_part": "mon_am", "licensed": 3, "enrolled": 0,
                                 "free": 3, "available": 0}
    assert by_part["mon_pm"]["available"] == 1
    listed = (await client.get("/locations")).json()
    assert (listed[0]["licensed_places"], listed[0]["open_free_places"]) == (3, 3)
    zero = await client.put("/locations/loc-a/capacity", json={"licensed_places": 0})
    assert (zero.status_code, fields(zero)) == (422, ["licensed_places"])
    bad_day = await client.get("/locations/loc-a/occupancy?on=someday")
    assert (bad_day.status_code, fields(bad_day)) == (422, ["on"])
    nowhere = await client.put("/locations/loc-x/capacity", json={"licensed_places": 3})
    assert (nowhere.status_code, fields(nowhere)) == (404, ["location_id"])
    unknown = await client.post("/locations/loc-x/free-places",
                                json={"available_from": str(NEXT_MONTH)})
    assert (unknown.status_code, fields(unknown)) == (404, ["location_id"])


async def test_enrolments_declared_listed_and_ended(client: httpx.AsyncClient) -> None:
    await client.post("/locations", json=LOCATION)
    own = {"enrolment_id": "own-1", "start_date": str(NEXT_MONTH), "day_parts": ["mon_am"]}
    declared = await client.put("/locations/loc-a/enrolments", json={"enrolments": [own]})
    assert declared.status_code == 200
    assert [e["source"] for e in declared.json()] == ["declared"]
    ended = await client.post("/enrolments/own-1/end",
                              json={"ended_on": str(NEXT_MONTH), "reason": "left"})
    assert (ended.status_code, ended.json()["ends_on"]) == (200, str(NEXT_MONTH))
    listed = (await client.get("/locations/loc-a/enrolments")).json()
    assert [(e["enrolment_id"], e["end_reason"]) for e in listed] == [("own-1", "left")]
    unknown = await client.post("/enrolments/own-9/end",
                                json={"ended_on": str(NEXT_MONTH), "reason": "left"})
    assert (unknown.status_code, fields(unknown)) == (404, ["enrolment_id"])
    nul = own | {"enrolment_id": "own\u0000"}
    refused = await client.put("/locations/loc-a/enrolments", json={"enrolments": [nul]})
    assert refused.status_code == 422
    assert fields(refused) == ["enrolments.0.enrolment_id"]


async def test_a_retried_registration_returns_the_first_answer_and_publishes_once(
    client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    body = LOCATION | {"location_id": None}
    first = await client.post("/locations", json=body, headers=keyed("k-1"))
    retried = await client.post("/locations", json=body, headers=keyed("k-1"))
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    registered = [e for e in uow.published_data() if isinstance(e, LocationRegistered)]
    assert [event.location_id for event in registered] == [first.json()["location_id"]]
    assert len(await uow.locations.all()) == 1


async def test_retried_free_places_return_the_first_answer_and_publish_once(
    client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    await client.post("/locations", json=LOCATION)
    body = {"available_from": str(NEXT_MONTH), "count": 2}
    first = await client.post(PLACES, json=body, headers=keyed("k-2"))
    retried = await client.post(PLACES, json=body, headers=keyed("k-2"))
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    freed = [e.place_id for e in uow.published_data() if isinstance(e, PlaceFreed)]
    assert freed == first.json()["place_ids"]
    # Without the key the same body would have been refused: the location is full.
    assert (await client.get("/locations/loc-a")).json()["open_free_places"] == 2


async def test_a_retried_closure_registration_returns_the_first_answer(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/locations", json=LOCATION)
    closure = {"reason": "bankruptcy", "effective_from": str(NEXT_MONTH)}
    first = await client.post("/locations/loc-a/closures", json=closure, headers=keyed("k-3"))
    retried = await client.post("/locations/loc-a/closures", json=closure,
                                headers=keyed("k-3"))
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()


async def test_the_same_key_with_another_body_is_refused_naming_the_header(
    client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    await client.post("/locations", json=LOCATION, headers=keyed("k-4"))
    other = await client.post("/locations", json=LOCATION | {"location_id": "loc-b"},
                              headers=keyed("k-4"))
    assert (other.status_code, fields(other)) == (422, ["Idempotency-Key"])
    assert len(uow.published) == 1
    freed = await client.post(PLACES, json={"available_from": str(NEXT_MONTH)},
                              headers=keyed("k-5"))
    assert freed.status_code == 201
    more = await client.post(PLACES, json={"available_from": str(NEXT_MONTH), "count": 2},
                             headers=keyed("k-5"))
    assert (more.status_code, fields(more)) == (422, ["Idempotency-Key"])
    assert len(uow.published) == 2
