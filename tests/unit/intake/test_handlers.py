"""Intake's behaviour, in memory: requests, their pseudonymous events, and crises."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts import new_event
from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    RequestSubmitted,
    RequestWithdrawn,
)
from services.intake import handlers
from services.intake.domain.model import (
    Child,
    Contact,
    Priority,
    Request,
    RequestRuleError,
    Status,
    child_reference,
)
from tests.unit.intake.fakes import FakeIntakeUnitOfWork

AREA = "kempen-gml"
MUNICIPALITIES = frozenset({"13008", "13053", "13021"})
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_request(request_id: str = "req-1", locations: tuple[str, ...] = ("loc-a",),
                **changes: object) -> Request:
    fields: dict[str, object] = dict(
        request_id=request_id, service_area=AREA,
        child=Child("Lotte", "Peeters", date(2026, 10, 12), "26101212345"),
        contact=Contact("An Peeters", "an@example.be", "+32 470 00 00 00", "Markt 1", "2440"),
        municipality_nis="13008", neighbourhood_code=None, desired_start_date=date(2027, 9, 1),
        days_per_week=4, preferred_location_ids=locations,
        priority=Priority(parents_working_or_training=True), urgency="normal", submitted_at=NOW,
    )
    return Request(**(fields | changes))  # type: ignore[arg-type]


async def uow_with_locations(*location_ids: str) -> FakeIntakeUnitOfWork:
    uow = FakeIntakeUnitOfWork()
    for location_id in location_ids:
        location = LocationRegistered(
            service_area=AREA, location_id=location_id, name="KDV", municipality_nis="13008",
            postcode="2440", capacity=10, subsidy_tier="basic", registered_at=NOW)
        await handlers.on_location_registered(new_event(location, source="/t"), location, uow)
    return uow


async def test_a_request_is_stored_and_announced_without_personal_data() -> None:
    uow = await uow_with_locations("loc-a")
    ref = child_reference(b"key", new_request().child)
    await handlers.submit_request(new_request(), uow, MUNICIPALITIES, ref)
    [event] = uow.published_data()
    assert isinstance(event, RequestSubmitted)
    assert (event.request_id, event.birth_month, event.child_ref) == ("req-1", "2026-10", ref)
    wire = uow.published[0].model_dump_json()
    for personal in ("Lotte", "Peeters", "26101212345", "an@example.be", "Markt"):
        assert personal not in wire
    assert (await uow.requests.get("req-1")).child.first_name == "Lotte"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"municipality_nis": "11002"}, "municipality_nis"),
        ({"preferred_location_ids": ("loc-unknown",)}, "preferred_location_ids"),
        ({"desired_start_date": date(2026, 1, 1)}, "desired_start_date"),
        ({"desired_start_date": date(2030, 1, 1)}, "desired_start_date"),
    ],
)
async def test_rules_refuse_a_request_naming_the_field(changes: dict, field: str) -> None:
    uow = await uow_with_locations("loc-a")
    with pytest.raises(RequestRuleError) as refused:
        await handlers.submit_request(new_request(**changes), uow, MUNICIPALITIES, "r" * 64)
    assert refused.value.field == field
    assert uow.published == [] and uow.requests.rows == {}


async def test_a_proposal_shows_on_the_request_and_a_withdrawal_is_announced() -> None:
    uow = await uow_with_locations("loc-a")
    await handlers.submit_request(new_request(), uow, MUNICIPALITIES, "r" * 64)
    proposal = MatchProposed(service_area=AREA, match_id="m-1", request_id="req-1",
                             place_id="p-1", location_id="loc-a",
                             location_municipality_nis="13008",
                             request_municipality_nis="13008", urgency="normal",
                             ordering="x", proposed_at=NOW)
    await handlers.on_match_proposed(new_event(proposal, source="/t"), proposal, uow)
    stored = await uow.requests.get("req-1")
    assert stored and stored.status is Status.PROPOSED and stored.proposed_place_id == "p-1"

    await handlers.withdraw_request("req-1", uow)
    assert isinstance(uow.published_data()[-1], RequestWithdrawn)
    with pytest.raises(RequestRuleError):
        await handlers.withdraw_request("req-1", uow)


async def test_a_closure_replaces_proposed_requests_by_crisis_requests() -> None:
    uow = await uow_with_locations("loc-a", "loc-b", "loc-c")
    await handlers.submit_request(new_request("req-1", ("loc-a", "loc-b")), uow,
                                  MUNICIPALITIES, "r" * 64)
    await handlers.submit_request(new_request("req-2", ("loc-a",)), uow, MUNICIPALITIES, "s" * 64)
    for request_id in ("req-1", "req-2"):
        stored = await uow.requests.get(request_id)
        assert stored and stored.propose(f"m-{request_id}", "loc-a", f"p-{request_id}")
        await uow.requests.save(stored)
    closure = CrisisClosure(service_area=AREA, closure_id="c-1", location_id="loc-a",
                            municipality_nis="13008", reason="licence_revoked",
                            effective_from=date(2026, 12, 1), announced_at=NOW)
    await handlers.on_crisis_closure(new_event(closure, source="/t"), closure, uow,
                                     child_ref_for=lambda child: "r" * 64)
    await uow.commit()  # the consumer commits after the handler

    crisis = [e for e in uow.published_data()
              if isinstance(e, RequestSubmitted) and e.urgency == "crisis"]
    by_old = {event.replaces_request_id: event for event in crisis}
    assert by_old["req-1"].preferred_location_ids == ["loc-b"]  # the family's other choice
    assert by_old["req-2"].preferred_location_ids == ["loc-b", "loc-c"]  # every open location
    old = await uow.requests.get("req-1")
    assert old and old.status is Status.REPLACED
    assert old.replaced_by_request_id == by_old["req-1"].request_id


async def test_erasure_removes_personal_data_and_withdraws_an_open_request() -> None:
    uow = await uow_with_locations("loc-a")
    await handlers.submit_request(new_request(), uow, MUNICIPALITIES, "r" * 64)
    erased = await handlers.erase_personal_data("req-1", uow)
    stored = await uow.requests.get("req-1")
    assert stored and erased.erased_at and stored.status is Status.WITHDRAWN
    kept = repr(stored)
    for personal in ("Lotte", "Peeters", "26101212345", "an@example.be", "Markt", "2026-10-12"):
        assert personal not in kept
    assert stored.birth_month == "2026-10" and stored.municipality_nis == "13008"
    assert isinstance(uow.published_data()[-1], RequestWithdrawn)
    # erasing again changes nothing and announces nothing
    published = len(uow.published)
    await handlers.erase_personal_data("req-1", uow)
    assert len(uow.published) == published
