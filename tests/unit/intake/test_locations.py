"""Which locations a family is offered after a crisis closure: pure rules."""

from __future__ import annotations

from services.intake.adapters.postcodes import postcode_coordinates
from services.intake.domain.locations import (
    MAX_CHOICES,
    Location,
    crisis_choices,
    distance_km,
    nearest,
    within_distance,
)

COORDINATES = {"1000": (0.0, 50.0), "1001": (0.1, 50.0), "1002": (0.2, 50.0)}


def location(location_id: str, postcode: str) -> Location:
    return Location(location_id=location_id, service_area="kempen-gml", name="KDV",
                    municipality_nis="13008", postcode=postcode, subsidy_tier="basic")


def ids(locations: list[Location]) -> list[str]:
    return [loc.location_id for loc in locations]


def test_nearest_first_unknown_coordinates_last_ties_by_id() -> None:
    candidates = [location("z-far", "1002"), location("a-unknown", "9999"),
                  location("m-near", "1001"), location("b-near", "1001"),
                  location("a-here", "1000")]
    assert ids(nearest(candidates, "1000", COORDINATES)) == [
        "a-here", "b-near", "m-near", "z-far", "a-unknown"]


def test_a_family_without_known_coordinates_gets_locations_by_id() -> None:
    candidates = [location("loc-b", "1000"), location("loc-a", "1002")]
    assert ids(nearest(candidates, "9999", COORDINATES)) == ["loc-a", "loc-b"]


def test_nearest_is_capped() -> None:
    candidates = [location(f"loc-{n:02d}", "1000") for n in range(15)]
    assert len(nearest(candidates, "1000", COORDINATES)) == MAX_CHOICES == 10


def test_within_a_distance_nearest_first_without_unknown_coordinates() -> None:
    candidates = [location("loc-far", "1002"), location("loc-unknown", "9999"),
                  location("loc-near", "1001"), location("loc-here", "1000")]
    one_step = distance_km(COORDINATES["1000"], COORDINATES["1001"])  # about 7.1 km
    assert ids(within_distance(candidates, "1000", one_step, COORDINATES)) == [
        "loc-here", "loc-near"]
    assert ids(within_distance(candidates, "1000", 50, COORDINATES)) == [
        "loc-here", "loc-near", "loc-far"]
    assert within_distance(candidates, "9999", 50, COORDINATES) == []


def test_the_family_keeps_its_remaining_open_choices_in_its_own_order() -> None:
    open_locations = [location(i, "1000") for i in ("loc-b", "loc-c", "loc-d")]
    choices = crisis_choices(("loc-a", "loc-d", "loc-x", "loc-b"), "loc-a", "1000",
                             open_locations, COORDINATES)
    assert choices == ("loc-d", "loc-b")  # loc-x closed earlier: not offered


def test_without_remaining_choices_the_nearest_open_locations() -> None:
    open_locations = [location("loc-far", "1002"), location("loc-near", "1001")]
    assert crisis_choices(("loc-a",), "loc-a", "1000", open_locations, COORDINATES) == (
        "loc-near", "loc-far")
    assert crisis_choices(("loc-a",), "loc-a", "1000", [], COORDINATES) == ()


def test_the_shipped_postcodes_place_geel_near_mol_and_far_from_brugge() -> None:
    coordinates = postcode_coordinates()
    assert len(coordinates) > 1000
    assert 8 < distance_km(coordinates["2440"], coordinates["2400"]) < 11
    assert 115 < distance_km(coordinates["2440"], coordinates["8000"]) < 130
