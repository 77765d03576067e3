"""A family keeps its request current: changes, confirmations (and expiry without
them), and staff link siblings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import RequestExpired, RequestUpdated
from loketkit.calendar import Period
from services.intake.domain.model import Status
from tests.unit.intake.harness import AREA, NOW, PARENT, Intake, fields


async def test_a_waiting_family_changes_its_request(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)
    await intake.submit()
    changed = await intake.client.patch("/requests/req-1", json={
        "day_parts": ["wed_pm", "wed_am"], "preferred_location_ids": ["loc-b", "loc-a"],
        "accepts_partial_fit": True})
    assert changed.status_code == 200
    body = changed.json()
    assert (body["day_parts"], body["preferred_location_ids"], body["desired_start_date"]) == (
        ["wed_am", "wed_pm"], ["loc-b", "loc-a"], "2027-09-01")
    event = intake.uow.published_data()[-1]
    assert isinstance(event, RequestUpdated)
    assert (event.day_parts, event.accepts_partial_fit, event.updated_at) == (
        ["wed_am", "wed_pm"], True, NOW)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"preferred_location_ids": ["loc-unknown"]}, "preferred_location_ids"),
        ({"desired_start_date": "2030-01-01"}, "desired_start_date"),
        ({"day_parts": []}, "day_parts"),
        ({"preferred_location_ids": []}, "preferred_location_ids"),
        ({"municipality_nis": "13008"}, "municipality_nis"),
    ],
)
async def test_a_change_is_checked_as_at_registration(
    intake: Intake, change: dict[str, object], field: str
) -> None:
    await intake.register("loc-a")
    await intake.submit()
    refused = await intake.client.patch("/requests/req-1", json=change)
    assert refused.status_code == 422 and fields(refused) == [field]
    assert not any(isinstance(e, RequestUpdated) for e in intake.uow.published_data())


async def test_only_a_waiting_request_changes(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.client.post("/requests/req-1/withdraw")
    refused = await intake.client.patch("/requests/req-1", json={"accepts_partial_fit": True})
    assert refused.status_code == 409 and fields(refused) == ["request_id"]


async def test_staff_link_siblings_both_ways(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.submit(child={"first_name": "Mats", "last_name": "Peeters",
                               "birth_date": "2026-10-12"})  # the twin: its own request
    linked = await intake.client.post("/requests/req-1/siblings", json={"request_id": "req-2"})
    assert linked.status_code == 200 and linked.json()["sibling_request_ids"] == ["req-2"]
    assert (await intake.follow("req-2"))["sibling_request_ids"] == ["req-1"]
    updates = [e for e in intake.uow.published_data() if isinstance(e, RequestUpdated)]
    assert {(e.request_id, tuple(e.sibling_request_ids)) for e in updates} == {
        ("req-1", ("req-2",)), ("req-2", ("req-1",))}
    # linking again changes nothing
    await intake.client.post("/requests/req-2/siblings", json={"request_id": "req-1"})
    assert len([e for e in intake.uow.published_data() if isinstance(e, RequestUpdated)]) == 2


async def test_sibling_links_are_refused_naming_the_field(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    self_link = await intake.client.post("/requests/req-1/siblings",
                                         json={"request_id": "req-1"})
    assert self_link.status_code == 422 and fields(self_link) == ["request_id"]
    unknown = await intake.client.post("/requests/req-1/siblings",
                                       json={"request_id": "req-404"})
    assert unknown.status_code == 404 and fields(unknown) == ["request_id"]


async def test_a_family_is_asked_to_confirm_and_its_request_expires_without_it(
    intake: Intake,
) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.submit(parent=PARENT | {"email": None})  # req-2: asked by staff, no e-mail
    jobs = intake.app.state.jobs
    assert await jobs["confirmations"]() == 0

    intake.clock.now = NOW + timedelta(days=92)
    assert await jobs["confirmations"]() == 2
    assert await jobs["confirmations"]() == 0  # asked once
    asked = (await intake.follow("req-1"))["confirmation_asked_at"]
    assert asked is not None
    [question] = intake.uow.notices.of_kind("confirm_request")
    assert question.recipient == "an@example.be" and "Lotte" in question.body

    intake.clock.now = NOW + timedelta(days=92 + 31)
    assert await jobs["confirmations"]() == 2
    expired = [e for e in intake.uow.published_data() if isinstance(e, RequestExpired)]
    assert {e.request_id for e in expired} == {"req-1", "req-2"}
    assert (await intake.follow("req-1"))["status"] == "expired"
    assert len(intake.uow.notices.of_kind("request_expired")) == 1
    assert await jobs["confirmations"]() == 0


async def test_a_confirmation_resets_the_clock(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    intake.clock.now = NOW + timedelta(days=92)
    await intake.app.state.jobs["confirmations"]()
    intake.clock.now = NOW + timedelta(days=100)
    confirmed = await intake.client.post("/requests/req-1/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["confirmation_asked_at"] is None
    intake.clock.now = NOW + timedelta(days=92 + 31)
    assert await intake.app.state.jobs["confirmations"]() == 0
    assert (await intake.follow("req-1"))["status"] == "waiting"


async def test_confirmation_periods_are_area_settings(intake: Intake) -> None:
    defaults = (await intake.client.get(f"/service-areas/{AREA}/settings")).json()
    assert defaults["settings"]["confirm_every"] == Period(days=91).model_dump()
    recorded = await intake.client.post(f"/service-areas/{AREA}/settings", json={
        "confirm_every": {"seconds": 60}, "confirm_within": {"seconds": 30}})
    assert recorded.status_code == 201 and recorded.json()["version"] == 1
    await intake.register("loc-a")
    await intake.submit()
    intake.clock.now = NOW + timedelta(seconds=61)
    assert await intake.app.state.jobs["confirmations"]() == 1
    intake.clock.now = NOW + timedelta(seconds=92)
    assert await intake.app.state.jobs["confirmations"]() == 1
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.status is Status.EXPIRED


async def test_only_a_waiting_request_is_confirmed(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.client.post("/requests/req-1/withdraw")
    assert (await intake.client.post("/requests/req-1/confirm")).status_code == 409
