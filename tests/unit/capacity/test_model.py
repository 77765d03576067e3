"""Capacity's domain rules: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Location,
    PlaceOffer,
    PlaceSource,
    check_new_location,
)

API, ORGANISER = PlaceSource.API, PlaceSource.ORGANISER

TODAY = date(2026, 11, 1)
AREA_MUNICIPALITIES = frozenset({"13008", "13053", "13021"})


def location(**changes: object) -> Location:
    facts: dict[str, object] = {
        "location_id": "loc-a", "service_area": "kempen-gml", "name": "De Bolleboos",
        "municipality_nis": "13021", "postcode": "2450", "capacity": 3,
        "subsidy_tier": "basic", "min_age_months": 3, "max_age_months": 30,
    }
    return Location.model_validate(facts | changes)


def offer(days: int = 10, low: int | None = None, high: int | None = None) -> PlaceOffer:
    return PlaceOffer(
        available_from=TODAY + timedelta(days=days), min_age_months=low, max_age_months=high
    )


def test_a_new_location_must_lie_in_the_service_area() -> None:
    check_new_location(location(), AREA_MUNICIPALITIES)
    with pytest.raises(CapacityRuleError) as refused:
        check_new_location(location(municipality_nis="44021"), AREA_MUNICIPALITIES)
    assert refused.value.field == "municipality_nis"


def test_a_new_location_needs_a_sensible_age_range() -> None:
    with pytest.raises(CapacityRuleError) as refused:
        check_new_location(location(min_age_months=24, max_age_months=12), AREA_MUNICIPALITIES)
    assert refused.value.field == "min_age_months"


def test_free_places_take_the_location_age_range_when_none_is_given() -> None:
    [place] = location().offer(["p1"], offer(), API, TODAY)
    assert (place.min_age_months, place.max_age_months, place.source) == (3, 30, API)


@pytest.mark.parametrize(
    ("low", "high", "field"),
    [(0, 30, "min_age_months"), (3, 36, "max_age_months"), (20, 10, "min_age_months")],
)
def test_a_free_place_age_range_must_lie_within_the_location(
    low: int, high: int, field: str
) -> None:
    with pytest.raises(CapacityRuleError) as refused:
        location().offer(["p1"], offer(low=low, high=high), API, TODAY)
    assert refused.value.field == field


def test_available_from_may_lie_a_little_but_not_long_in_the_past() -> None:
    location().offer(["p1"], offer(days=-31), ORGANISER, TODAY)
    with pytest.raises(CapacityRuleError) as refused:
        location().offer(["p1"], offer(days=-32), ORGANISER, TODAY)
    assert refused.value.field == "available_from"


def test_open_free_places_never_exceed_the_capacity() -> None:
    site = location()
    site.offer(["p1", "p2"], offer(), API, TODAY)
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p3", "p4"], offer(), API, TODAY)
    assert refused.value.field == "count"
    assert site.open_free_places == 2  # all or nothing
    site.offer(["p3"], offer(), API, TODAY)
    assert site.open_free_places == 3


def test_a_closed_location_accepts_no_free_places_and_closes_once() -> None:
    site = location(open_free_places=2)
    closure = site.close("c1", "licence_revoked", TODAY, datetime(2026, 11, 1, tzinfo=UTC))
    assert (closure.location_id, site.closed, site.open_free_places) == ("loc-a", True, 0)
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p1"], offer(), API, TODAY)
    assert refused.value.field == "location_id"
    with pytest.raises(CapacityConflict):
        site.close("c2", "bankruptcy", TODAY, datetime(2026, 11, 2, tzinfo=UTC))


def test_an_announcement_must_match_the_location_it_names() -> None:
    with pytest.raises(CapacityRuleError) as refused:
        location().check_origin("antwerpen", "13021")
    assert refused.value.field == "service_area"
    with pytest.raises(CapacityRuleError) as refused:
        location().check_origin("kempen-gml", "13008")
    assert refused.value.field == "municipality_nis"
