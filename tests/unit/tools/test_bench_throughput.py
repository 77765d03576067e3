"""The throughput benchmark's arithmetic: percentiles, rates, ratios and the summary rows."""

from __future__ import annotations

import math

import pytest

from tools.bench.throughput import (
    COMPARISON_HEADINGS,
    MEASUREMENT_HEADINGS,
    Arrivals,
    Comparison,
    Measurement,
    PlacesPlan,
    percentile,
)


def test_percentile_interpolates_between_the_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # any order
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(list(map(float, range(1, 101))), 99) == pytest.approx(99.01)


def test_percentile_of_one_value_is_that_value_and_of_none_is_nan() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_measurement_rate_and_latencies_in_milliseconds() -> None:
    measured = Measurement("x", count=200, seconds=4.0, latencies=(0.1, 0.2, 0.3), failures=1)
    assert measured.per_second == 50.0
    assert measured.p50_ms == pytest.approx(200.0)
    assert measured.p99_ms == pytest.approx(298.0)
    assert len(measured.row()) == len(MEASUREMENT_HEADINGS)
    assert Measurement("nothing", 0, 0.0).per_second == 0.0


def test_comparison_ratio_and_whether_the_target_is_met() -> None:
    ours = Measurement("intake", 100, 2.0)  # 50/s
    ceiling = Measurement("bare", 400, 4.0)  # 100/s
    met = Comparison("intake", "req/s", ours, ceiling, target=0.5)
    assert met.ratio == 0.5 and met.met
    assert met.row() == ["intake", "50.0 req/s", "100.0 req/s", "0.500", ">= 0.5", True]
    assert len(met.row()) == len(COMPARISON_HEADINGS)
    missed = Comparison("places", "/s", Measurement("p", 19, 1.0), Measurement("c", 4000, 1.0),
                        target=0.25)
    assert missed.ratio == pytest.approx(0.00475) and not missed.met


def test_a_ceiling_that_did_nothing_gives_ratio_zero_not_an_error() -> None:
    assert Comparison("x", "/s", Measurement("a", 1, 1.0), Measurement("b", 0, 0.0), 0.5).ratio \
        == 0.0


def test_arrivals_run_from_the_first_send_to_the_last_arrival() -> None:
    arrivals = Arrivals({"a", "b", "c"}, sent={"a": 10.0, "b": 10.5, "c": 11.0},
                        seen={"a": 12.0, "b": 14.0})
    measured = arrivals.measurement("chain")
    assert (measured.count, measured.failures) == (2, 1)
    assert measured.seconds == 4.0
    assert sorted(measured.latencies) == [2.0, 3.5]
    assert Arrivals({"a"}).measurement("none").failures == 1


def test_every_location_has_more_waiting_requests_than_places() -> None:
    plan = PlacesPlan.for_places(1050)
    assert plan.locations == 42
    places_at = [sum(1 for p in range(plan.places) if plan.location_of_place(p) == n)
                 for n in range(plan.locations)]
    assert sum(places_at) == 1050
    assert all(plan.requests_at(n) > places_at[n] for n in range(plan.locations))
