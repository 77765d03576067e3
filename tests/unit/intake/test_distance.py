"""A family may also ask for any open location within a distance of its postcode: intake
appends those to the family's own choices (nearest first, at most ten in all) and
publishes the effective list; the distance and the postcode stay in intake."""

from __future__ import annotations

import pytest

from contracts.events import LocationRegistered, RequestSubmitted, RequestUpdated
from tests.unit.intake.harness import (
    AROUND_GEEL,
    NOW,
    PARENT,
    REQUEST,
    Intake,
    closure,
    fields,
    proposal,
)

# The family lives in Geel (2440); see AROUND_GEEL for the distances.
NEAREST = ["loc-geel", "loc-meerhout", "loc-laakdal", "loc-westerlo", "loc-mol", "loc-olen",
           "loc-kasterlee", "loc-herentals", "loc-dessel", "loc-balen", "loc-turnhout"]
WITHOUT_CHOICES = {key: value for key, value in REQUEST.items()
                   if key != "preferred_location_ids"}


async def around_geel(intake: Intake) -> None:
    await intake.register("loc-geel", postcode="2440")
    for location_id, postcode in AROUND_GEEL.items():
        await intake.register(location_id, postcode=postcode)


def by_distance(body: dict[str, object]) -> list[tuple[str, bool]]:
    choices = body["choices"]
    assert isinstance(choices, list)
    return [(choice["location_id"], choice["by_distance"]) for choice in choices]


def assert_private(intake: Intake) -> None:
    """No event carries the family's postcode or its distance."""
    for event in intake.uow.published:
        wire = event.model_dump_json()
        assert "distance" not in wire and "postcode" not in wire and "2440" not in wire


async def test_locations_within_the_distance_follow_the_family_s_own_nearest_first(
    intake: Intake,
) -> None:
    await around_geel(intake)
    created = await intake.submit(preferred_location_ids=["loc-turnhout", "loc-laakdal"],
                                  max_distance_km=9.2)  # Mol 9.1 km in, Olen 9.3 out
    assert created.status_code == 201, created.json()
    effective = ["loc-turnhout", "loc-laakdal", "loc-geel", "loc-meerhout", "loc-westerlo",
                 "loc-mol"]  # Laakdal, named, counts once, in the family's place
    [event] = intake.uow.published_data()
    assert isinstance(event, RequestSubmitted) and event.preferred_location_ids == effective
    assert_private(intake)

    body = await intake.follow("req-1")
    assert (body["max_distance_km"], body["preferred_location_ids"]) == (9.2, effective)
    assert by_distance(body) == [("loc-turnhout", False), ("loc-laakdal", False),
                                 ("loc-geel", True), ("loc-meerhout", True),
                                 ("loc-westerlo", True), ("loc-mol", True)]
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.chosen_location_ids == ("loc-turnhout", "loc-laakdal")
    assert stored.contact.postcode == "2440"  # kept in intake only


async def test_the_whole_list_is_capped_at_ten(intake: Intake) -> None:
    await around_geel(intake)
    created = await intake.submit(preferred_location_ids=["loc-brugge", "loc-turnhout"],
                                  max_distance_km=50)
    assert created.status_code == 201, created.json()
    [event] = intake.uow.published_data()
    assert isinstance(event, RequestSubmitted)
    assert event.preferred_location_ids == ["loc-brugge", "loc-turnhout", *NEAREST[:8]]


async def test_a_distance_alone_is_enough(intake: Intake) -> None:
    await around_geel(intake)
    created = await intake.submit(preferred_location_ids=[], max_distance_km=8.5)
    assert created.status_code == 201, created.json()
    assert created.json()["preferred_location_ids"] == NEAREST[:3]
    assert all(flag for _, flag in by_distance(created.json()))
    again = await intake.client.post("/requests", json=WITHOUT_CHOICES | {"max_distance_km": 1})
    assert again.status_code == 201 and again.json()["preferred_location_ids"] == ["loc-geel"]


async def test_only_open_locations_of_the_area_count(intake: Intake) -> None:
    await around_geel(intake)
    assert await intake.deliver(closure("loc-meerhout")) == "applied"
    assert await intake.deliver(LocationRegistered(
        service_area="elders", location_id="loc-other-area", name="KDV",
        municipality_nis="13008", postcode="2440", capacity=10, subsidy_tier="basic",
        registered_at=NOW)) == "applied"
    created = await intake.submit(preferred_location_ids=[], max_distance_km=8.4)
    assert created.status_code == 201, created.json()
    assert created.json()["preferred_location_ids"] == ["loc-geel", "loc-laakdal"]


@pytest.mark.parametrize("postcode", ["2440", "0000"])  # 0000: no coordinates
async def test_no_open_location_within_the_distance_is_refused_naming_it(
    intake: Intake, postcode: str
) -> None:
    await intake.register("loc-brugge", postcode="8000")
    refused = await intake.submit(preferred_location_ids=[], max_distance_km=5,
                                  parent=PARENT | {"postcode": postcode})
    assert refused.status_code == 422 and fields(refused) == ["max_distance_km"]
    assert refused.json()["fields"][0]["message"] == (
        "no open location of the area within 5 km of the postcode")
    assert intake.uow.published == [] and intake.uow.requests.rows == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"preferred_location_ids": []}, "preferred_location_ids"),
        ({"preferred_location_ids": [], "max_distance_km": None}, "preferred_location_ids"),
        ({"max_distance_km": 0.4}, "max_distance_km"),
        ({"max_distance_km": 50.5}, "max_distance_km"),
        ({"max_distance_km": "NaN"}, "max_distance_km"),
        ({"max_distance_km": "ver"}, "max_distance_km"),
    ],
)
async def test_choices_or_a_distance_are_required_and_the_distance_is_bounded(
    intake: Intake, changes: dict[str, object], field: str
) -> None:
    await around_geel(intake)
    refused = await intake.submit(**changes)
    assert refused.status_code == 422 and fields(refused) == [field]
    assert intake.uow.published == []
    without_list = await intake.client.post("/requests", json=WITHOUT_CHOICES)
    assert without_list.status_code == 422 and fields(without_list) == [
        "preferred_location_ids"]


async def test_a_change_of_distance_republishes_the_effective_list(intake: Intake) -> None:
    await around_geel(intake)
    await intake.submit(preferred_location_ids=["loc-turnhout"], max_distance_km=7)

    async def change(**body: object) -> list[str]:
        changed = await intake.client.patch("/requests/req-1", json=body)
        assert changed.status_code == 200, changed.json()
        event = intake.uow.published_data()[-1]
        assert isinstance(event, RequestUpdated)
        assert event.preferred_location_ids == changed.json()["preferred_location_ids"]
        return event.preferred_location_ids

    assert await change(max_distance_km=8.5) == [
        "loc-turnhout", "loc-geel", "loc-meerhout", "loc-laakdal"]
    # another change keeps the family's list and its distance, applied again
    await intake.register("loc-geel-2", postcode="2440")  # a new location opened since
    assert await change(accepts_partial_fit=True) == [
        "loc-turnhout", "loc-geel", "loc-geel-2", "loc-meerhout", "loc-laakdal"]
    assert await change(preferred_location_ids=["loc-laakdal", "loc-mol"]) == [
        "loc-laakdal", "loc-mol", "loc-geel", "loc-geel-2", "loc-meerhout"]
    assert await change(max_distance_km=None) == ["loc-laakdal", "loc-mol"]
    body = await intake.follow("req-1")
    assert body["max_distance_km"] is None
    assert by_distance(body) == [("loc-laakdal", False), ("loc-mol", False)]
    assert await change(preferred_location_ids=[], max_distance_km=7) == [
        "loc-geel", "loc-geel-2", "loc-meerhout"]
    assert_private(intake)


async def test_a_change_leaving_neither_choices_nor_distance_is_refused(
    intake: Intake,
) -> None:
    await around_geel(intake)
    await intake.submit(preferred_location_ids=[], max_distance_km=1)
    for change, field in (({"max_distance_km": None}, "preferred_location_ids"),
                          ({"max_distance_km": 0.4}, "max_distance_km")):
        refused = await intake.client.patch("/requests/req-1", json=change)
        assert refused.status_code == 422 and fields(refused) == [field]
    assert not any(isinstance(e, RequestUpdated) for e in intake.uow.published_data())


async def test_a_crisis_request_keeps_what_came_from_the_distance(intake: Intake) -> None:
    await around_geel(intake)
    await intake.submit(preferred_location_ids=["loc-turnhout"], max_distance_km=7)
    await intake.deliver(proposal("req-1", "loc-turnhout"))
    assert await intake.deliver(closure("loc-turnhout")) == "applied"
    crisis = await intake.follow("req-2")
    assert by_distance(crisis) == [("loc-geel", True), ("loc-meerhout", True)]
    assert crisis["max_distance_km"] == 7


async def test_ten_own_choices_leave_no_room_and_are_never_cut(intake: Intake) -> None:
    await around_geel(intake)
    own = NEAREST[::-1][:10]  # all but Geel, the nearest, farthest first
    created = await intake.submit(preferred_location_ids=own, max_distance_km=50)
    assert created.status_code == 201, created.json()
    assert created.json()["preferred_location_ids"] == own
    assert not any(flag for _, flag in by_distance(created.json()))

