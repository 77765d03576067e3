"""Requests over HTTP, in memory: stored, announced without personal data, refused
naming the field, followed, withdrawn and erased."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.events import RequestSubmitted, RequestWithdrawn
from services.intake.domain.model import Child, Status, child_reference
from services.intake.settings import IntakeSettings
from tests.unit.intake.harness import CHILD, NOW, PARENT, PERSONAL, REQUEST, Intake, fields


async def test_a_request_is_stored_and_announced_without_personal_data(intake: Intake) -> None:
    await intake.register("loc-a")
    created = await intake.submit()
    assert created.status_code == 201
    body = created.json()
    assert (body["request_id"], body["status"], body["submitted_at"]) == (
        "req-1", "waiting", NOW.isoformat().replace("+00:00", "Z"))

    [event] = intake.uow.published_data()
    key = IntakeSettings().child_ref_key.get_secret_value().encode()
    child = Child("Lotte", "Peeters", date(2026, 10, 12), "26101212345")
    assert isinstance(event, RequestSubmitted)
    assert (event.request_id, event.birth_month, event.child_ref) == (
        "req-1", "2026-10", child_reference(key, child))
    assert event.preferred_location_ids == ["loc-a"] and event.priority.parents_working_or_training
    assert event.day_parts == ["mon_am", "mon_pm", "tue_am", "tue_pm"]
    wire = intake.uow.published[0].model_dump_json()
    for personal in PERSONAL:
        assert personal not in wire
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.child.first_name == "Lotte"
    link = body.pop("personal_link")  # the family's, shown once at registration
    assert link and (await intake.client.get("/requests/req-1")).json() == body


async def test_repeated_choices_count_once(intake: Intake) -> None:
    await intake.register("loc-a")
    created = await intake.submit(preferred_location_ids=["loc-a", "loc-a"])
    assert created.json()["preferred_location_ids"] == ["loc-a"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"municipality_nis": "11002"}, "municipality_nis"),
        ({"preferred_location_ids": ["loc-unknown"]}, "preferred_location_ids"),
        ({"desired_start_date": "2026-01-01"}, "desired_start_date"),
        ({"desired_start_date": "2030-01-01"}, "desired_start_date"),
        ({"day_parts": []}, "day_parts"),
        ({"day_parts": ["sat_am"]}, "day_parts.0"),
        ({"days_per_week": 4}, "days_per_week"),
    ],
)
async def test_rules_refuse_a_request_naming_the_field(
    intake: Intake, changes: dict[str, object], field: str
) -> None:
    await intake.register("loc-a")
    refused = await intake.submit(**changes)
    assert refused.status_code == 422
    assert fields(refused) == [field]
    assert intake.uow.published == [] and intake.uow.requests.rows == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"child": CHILD | {"first_name": "An\u0000"}}, "child.first_name"),
        ({"parent": PARENT | {"street": "Markt\u001b[2J"}}, "parent.street"),
        ({"neighbourhood_code": "x" * 33}, "neighbourhood_code"),
        ({"preferred_location_ids": ["loc-" + "a" * 200]}, "preferred_location_ids.0"),
        ({"preferred_location_ids": ["loc a"]}, "preferred_location_ids.0"),
        ({"preferred_location_ids": [f"loc-{n}" for n in range(11)]}, "preferred_location_ids"),
        ({"priority": {"sibling_location_ids": ["s" * 65]}}, "priority.sibling_location_ids.0"),
        ({"priority": {"sibling_location_ids": ["sib\u0000"]}}, "priority.sibling_location_ids.0"),
        ({"priority": {"sibling_location_ids": ["s"] * 11}}, "priority.sibling_location_ids"),
    ],
)
async def test_control_characters_and_oversized_input_are_refused_naming_the_field(
    intake: Intake, changes: dict[str, object], field: str
) -> None:
    await intake.register("loc-a")
    refused = await intake.submit(**changes)
    assert refused.status_code == 422
    assert field in fields(refused)
    assert intake.uow.published == [] and intake.uow.requests.rows == {}


async def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(intake: Intake) -> None:
    await intake.register("loc-a")
    headers = {"Idempotency-Key": "retry-1"}
    first = await intake.client.post("/requests", json=REQUEST, headers=headers)
    again = await intake.client.post("/requests", json=REQUEST, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    submitted = [e for e in intake.uow.published_data() if isinstance(e, RequestSubmitted)]
    assert [event.request_id for event in submitted] == [first.json()["request_id"]]
    assert list(intake.uow.requests.rows) == [first.json()["request_id"]]


async def test_the_same_key_with_another_body_is_refused(intake: Intake) -> None:
    await intake.register("loc-a")
    headers = {"Idempotency-Key": "retry-1"}
    await intake.client.post("/requests", json=REQUEST, headers=headers)
    other = await intake.client.post("/requests", json=REQUEST | {"day_parts": ["wed_am"]},
                                     headers=headers)
    assert other.status_code == 422
    assert fields(other) == ["Idempotency-Key"]
    assert len(intake.uow.published) == 1


async def test_withdrawal_is_announced_and_cannot_happen_twice(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    withdrawn = await intake.client.post("/requests/req-1/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == Status.WITHDRAWN
    event = intake.uow.published_data()[-1]
    assert isinstance(event, RequestWithdrawn)
    assert (event.request_id, event.reason, event.withdrawn_at) == ("req-1", "by_family", NOW)

    again = await intake.client.post("/requests/req-1/withdraw")
    assert again.status_code == 409 and fields(again) == ["request_id"]
    assert len(intake.uow.published) == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/requests/req-404"), ("POST", "/requests/req-404/withdraw"),
     ("DELETE", "/requests/req-404/personal-data")],
)
async def test_an_unknown_request_is_a_404_naming_it(
    intake: Intake, method: str, path: str
) -> None:
    missing = await intake.client.request(method, path)
    assert missing.status_code == 404 and fields(missing) == ["request_id"]


async def test_erasure_removes_personal_data_and_withdraws_an_open_request(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    await intake.submit()
    erased = await intake.client.delete("/requests/req-1/personal-data")
    assert erased.status_code == 200
    assert erased.json()["erased_at"] and erased.json()["status"] == "withdrawn"
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.erased_at == NOW and stored.status is Status.WITHDRAWN
    kept = repr(stored)
    for personal in (*PERSONAL, "2026-10-12"):
        assert personal not in kept
    assert stored.birth_month == "2026-10" and stored.municipality_nis == "13008"
    assert isinstance(intake.uow.published_data()[-1], RequestWithdrawn)
    # erasing again changes nothing and announces nothing
    published = len(intake.uow.published)
    assert (await intake.client.delete("/requests/req-1/personal-data")).status_code == 200
    assert len(intake.uow.published) == published


async def test_the_offer_lists_known_locations_by_name(intake: Intake) -> None:
    await intake.register("loc-b", name="Zonnetje")
    await intake.register("loc-a", name="Bolleboos")
    listed = (await intake.client.get("/locations")).json()
    assert [location["location_id"] for location in listed] == ["loc-a", "loc-b"]
    assert listed[0] == {"location_id": "loc-a", "name": "Bolleboos", "municipality_nis": "13008",
                         "postcode": "2440", "subsidy_tier": "basic", "closed": False}
