"""Capacity's domain rules: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.schedule import DAY_PARTS, FULL_WEEK, DayPart
from services.capacity.domain.model import (
    CapacityConflict,
    CapacityRuleError,
    Closure,
    Enrolment,
    FreePlace,
    Location,
    Offer,
    OfferStatus,
    PlaceOffer,
    PlaceSource,
    PlaceStatus,
    check_new_location,
    enrolments_to_end_for_move,
    occupancy,
)

API, ORGANISER = PlaceSource.API, PlaceSource.ORGANISER

TODAY = date(2026, 11, 1)
AREA_MUNICIPALITIES = frozenset({"13008", "13053", "13021"})
MON_TO_WED: tuple[DayPart, ...] = DAY_PARTS[:6]
THU_FRI: tuple[DayPart, ...] = DAY_PARTS[6:]


def location(**changes: object) -> Location:
    facts: dict[str, object] = {
        "location_id": "loc-a", "service_area": "kempen-gml", "name": "De Bolleboos",
        "municipality_nis": "13021", "postcode": "2450", "capacity": 3,
        "subsidy_tier": "basic", "min_age_months": 3, "max_age_months": 30,
    }
    return Location.model_validate(facts | changes)


def offer(
    days: int = 10, low: int | None = None, high: int | None = None,
    parts: tuple[DayPart, ...] = FULL_WEEK,
) -> PlaceOffer:
    return PlaceOffer(
        available_from=TODAY + timedelta(days=days), min_age_months=low, max_age_months=high,
        day_parts=parts,
    )


def enrolled(
    number: int, parts: tuple[DayPart, ...] = FULL_WEEK, start: date = TODAY,
    ends_on: date | None = None, request_id: str | None = None,
) -> Enrolment:
    return Enrolment(enrolment_id=f"e{number}", location_id="loc-a", day_parts=parts,
                     start_date=start, ends_on=ends_on, request_id=request_id)


def test_a_new_location_must_lie_in_the_service_area() -> None:
    check_new_location(location(), AREA_MUNICIPALITIES)
    with pytest.raises(CapacityRuleError) as refused:
        check_new_location(location(municipality_nis="44021"), AREA_MUNICIPALITIES)
    assert refused.value.field == "municipality_nis"


def test_a_new_location_needs_a_sensible_age_range() -> None:
    with pytest.raises(CapacityRuleError) as refused:
        check_new_location(location(min_age_months=24, max_age_months=12), AREA_MUNICIPALITIES)
    assert refused.value.field == "min_age_months"


def test_the_registered_capacity_is_the_initial_licence() -> None:
    assert location().licensed_places == 3
    assert location(licensed_places=5).licensed_places == 5


def test_free_places_take_the_location_age_range_and_the_full_week_by_default() -> None:
    [place] = location().offer(["p1"], offer(), API, TODAY)
    assert (place.min_age_months, place.max_age_months, place.source) == (3, 30, API)
    assert place.day_parts == FULL_WEEK


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


def test_14_licensed_places_hold_20_part_time_children_but_not_a_15th_full_week_one() -> None:
    site = location(capacity=14)
    children = [enrolled(n, MON_TO_WED) for n in range(14)]
    children += [enrolled(14 + n, THU_FRI) for n in range(6)]
    assert len(children) == 20
    # Thursday and Friday still have room for 8 more part-time children ...
    site.offer(["p-thu"], offer(parts=THU_FRI), API, TODAY, children)
    # ... but no full-week child: Monday to Wednesday are full.
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p-full"], offer(), API, TODAY, children)
    assert refused.value.field == "day_parts"
    assert "mon_am" in refused.value.message
    parts = {p.day_part: p for p in occupancy(14, children, [], TODAY + timedelta(days=10))}
    assert (parts["mon_am"].enrolled, parts["mon_am"].available) == (14, 0)
    assert (parts["fri_pm"].enrolled, parts["fri_pm"].available) == (6, 8)


def test_open_free_places_count_against_the_licence_in_the_day_parts_they_cover() -> None:
    site = location(capacity=2)
    open_places = site.offer(["p1", "p2"], offer(parts=("mon_am",)), API, TODAY)
    site.offer(["p3"], offer(parts=("tue_am",)), API, TODAY, (), open_places)
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p4"], offer(parts=("mon_am", "tue_am")), API, TODAY, (), open_places)
    assert refused.value.field == "day_parts"


def test_too_many_places_at_once_names_the_count() -> None:
    site = location(capacity=3)
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p1", "p2", "p3", "p4"], offer(), API, TODAY)
    assert refused.value.field == "count"
    assert site.open_free_places == 0  # all or nothing


def test_an_ended_enrolment_lets_a_new_free_place_through() -> None:
    site = location(capacity=1)
    ends = TODAY + timedelta(days=10)
    children = [enrolled(1, ends_on=ends)]
    with pytest.raises(CapacityConflict):
        site.offer(["p1"], offer(days=5), API, TODAY, children)
    site.offer(["p1"], offer(days=10), API, TODAY, children)


def test_a_later_enrolment_counts_against_a_place_that_would_still_be_open_then() -> None:
    site = location(capacity=1)
    later = [enrolled(1, start=TODAY + timedelta(days=60))]
    with pytest.raises(CapacityConflict):
        site.offer(["p1"], offer(days=5), API, TODAY, later)


def test_occupancy_counts_only_open_places_and_enrolments_active_that_day() -> None:
    closed_place = FreePlace(place_id="p0", location_id="loc-a", available_from=TODAY,
                             min_age_months=0, max_age_months=36, source=API,
                             status=PlaceStatus.WITHDRAWN)
    open_place = closed_place.model_copy(update={"place_id": "p1", "status": PlaceStatus.OPEN})
    ended = enrolled(1, ends_on=TODAY + timedelta(days=1))
    found = occupancy(5, [ended, enrolled(2, ("mon_am",))], [closed_place, open_place],
                      TODAY + timedelta(days=1))
    assert [(p.day_part, p.enrolled, p.free) for p in found][:2] == [
        ("mon_am", 1, 1), ("mon_pm", 0, 1)]


def test_a_closed_location_accepts_no_free_places_and_closes_once() -> None:
    site = location(open_free_places=2)
    site.close()
    assert (site.closed, site.open_free_places) == (True, 0)
    with pytest.raises(CapacityConflict) as refused:
        site.offer(["p1"], offer(), API, TODAY)
    assert refused.value.field == "location_id"
    with pytest.raises(CapacityConflict):
        site.close()


def test_an_announcement_must_match_the_location_it_names() -> None:
    with pytest.raises(CapacityRuleError) as refused:
        location().check_origin("antwerpen", "13021")
    assert refused.value.field == "service_area"
    with pytest.raises(CapacityRuleError) as refused:
        location().check_origin("kempen-gml", "13008")
    assert refused.value.field == "municipality_nis"


def test_an_offer_never_goes_back_to_an_earlier_status() -> None:
    offer_ = Offer(match_id="m1", request_id="r1", place_id="p1", location_id="loc-a")
    accepted = offer_.moved_to(OfferStatus.ACCEPTED)
    assert accepted.status is OfferStatus.ACCEPTED
    ended = accepted.moved_to(OfferStatus.ENDED, ended_reason="expired")
    assert ended.moved_to(OfferStatus.ACCEPTED) is ended
    with pytest.raises(CapacityConflict) as refused:
        offer_.check_confirmable()
    assert refused.value.field == "match_id"


def test_the_default_schedule_is_what_the_family_asked_that_the_place_covers() -> None:
    offer_ = Offer(match_id="m1", request_id="r1", place_id="p1", location_id="loc-a",
                   start_date=TODAY, day_parts=MON_TO_WED,
                   requested_day_parts=("mon_am", "mon_pm", "fri_am"))
    assert offer_.default_day_parts() == ("mon_am", "mon_pm")
    with pytest.raises(CapacityConflict) as refused:
        offer_.check_schedule(["fri_am"])
    assert refused.value.field == "day_parts"


def test_a_child_moving_to_another_choice_ends_its_enrolment_when_the_new_one_starts() -> None:
    start = date(2027, 2, 1)
    old = enrolled(1, request_id="r1")
    past = enrolled(2, request_id="r1", ends_on=date(2026, 12, 1))
    new = enrolled(3, request_id="r1", start=start)
    [moved] = enrolments_to_end_for_move([old, past, new], new)
    assert (moved.enrolment_id, moved.ends_on, moved.end_reason) == (
        "e1", start, "moved_to_other_choice")  # no day without a place, no day with two


def test_an_end_planned_for_later_moves_earlier_and_an_earlier_one_stands() -> None:
    leaving = enrolled(1, ends_on=date(2027, 3, 1))
    assert leaving.end(date(2027, 1, 4), "location_closed").ends_on == date(2027, 1, 4)
    with pytest.raises(CapacityConflict):
        leaving.end(date(2027, 6, 1), "left")


def test_a_closure_is_released_once_listing_the_children_it_reaches() -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    closure = Closure(closure_id="c1", location_id="loc-a", service_area="kempen-gml",
                      reason="bankruptcy", effective_from=TODAY, registered_at=at)
    offer_ = Offer(match_id="m1", request_id="r9", place_id="p1", location_id="loc-a")
    released = closure.released(at, [enrolled(1, request_id="r1")], [offer_], ["p1"])
    assert [(e.enrolment_id, e.request_id) for e in released.affected_enrolments] == [
        ("e1", "r1")]
    assert [o.request_id for o in released.open_offers] == ["r9"]
    with pytest.raises(CapacityConflict) as refused:
        released.released(at, [], [], [])
    assert refused.value.field == "closure_id"
