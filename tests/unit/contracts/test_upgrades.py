"""Older versions are read and upgraded, so a handler only ever sees the current one."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import CloudEvent, parse_data
from contracts.events import MatchProposed, PlaceFreed, RequestSubmitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def envelope(type_: str, data: dict[str, object]) -> CloudEvent:
    return CloudEvent(id="e-1", source="test", type=type_, time=NOW, servicearea="kempen-gml",
                      data=data)


def test_a_v1_request_asks_for_its_days_per_week_as_full_days_from_monday() -> None:
    data = parse_data(envelope("be.loket.RequestSubmitted.v1", {
        "service_area": "kempen-gml", "request_id": "req-1", "child_ref": "c" * 64,
        "municipality_nis": "13008", "birth_month": "2026-01",
        "desired_start_date": "2026-09-01", "days_per_week": 3,
        "preferred_location_ids": ["loc-1"], "submitted_at": NOW.isoformat(),
    }))
    assert isinstance(data, RequestSubmitted)
    assert data.day_parts == ["mon_am", "mon_pm", "tue_am", "tue_pm", "wed_am", "wed_pm"]
    assert data.preferred_location_ids == ["loc-1"]


def test_a_v1_free_place_is_a_full_time_place() -> None:
    data = parse_data(envelope("be.loket.PlaceFreed.v1", {
        "service_area": "kempen-gml", "place_id": "p-1", "location_id": "loc-1",
        "municipality_nis": "13008", "available_from": "2026-12-01", "min_age_months": 0,
        "max_age_months": 36, "freed_at": NOW.isoformat(),
    }))
    assert isinstance(data, PlaceFreed)
    assert len(data.day_parts) == 10


def test_a_v1_offer_gets_deadlines_after_its_proposal() -> None:
    data = parse_data(envelope("be.loket.MatchProposed.v1", {
        "service_area": "kempen-gml", "match_id": "m-1", "request_id": "req-1",
        "place_id": "p-1", "location_id": "loc-1", "location_municipality_nis": "13008",
        "request_municipality_nis": "13008", "urgency": "normal", "ordering": "x",
        "proposed_at": NOW.isoformat(),
    }))
    assert isinstance(data, MatchProposed)
    assert NOW < data.family_answer_due < data.organiser_answer_due


def test_day_parts_are_kept_in_week_order_without_repeats() -> None:
    data = PlaceFreed(service_area="kempen-gml", place_id="p", location_id="l",
                      municipality_nis="13008", available_from=NOW.date(),
                      min_age_months=0, max_age_months=36, freed_at=NOW,
                      day_parts=["fri_pm", "mon_am", "fri_pm"])
    assert data.day_parts == ["mon_am", "fri_pm"]
