"""The figure rules themselves: shortages, totals, names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.reporting.adapters.reference import load_municipalities
from services.reporting.domain.model import Figures, Municipality, shortage
from services.reporting.domain.report import CountedFacts, build_report

NOW = datetime(2025, 9, 1, tzinfo=UTC)


def test_the_reference_file_holds_the_300_flemish_municipalities() -> None:
    municipalities = load_municipalities()
    assert len(municipalities) == 300
    assert sum(m.inhabitants or 0 for m in municipalities.values()) == 6_629_143
    assert municipalities["13008"] == Municipality("13008", "Geel", "Turnhout", "Antwerpen", 40709)
    assert "21004" not in municipalities  # Brussels is not in the Flemish Region


@pytest.mark.parametrize(("open_requests", "open_places", "expected"),
                         [(5, 2, 3), (2, 2, 0), (0, 7, 0), (1, 0, 1)])
def test_shortage_is_never_negative(open_requests: int, open_places: int, expected: int) -> None:
    assert shortage(open_requests, open_places) == expected
    cell = Figures.of_cell({"requests_open": open_requests, "free_places_open": open_places})
    assert cell.shortage == expected


def test_a_total_adds_up_its_parts_shortages() -> None:
    rows = [CountedFacts("area", "13008", "requests_open", 4),
            CountedFacts("area", "13053", "free_places_open", 10),
            CountedFacts("other", "13008", "requests_open", 1)]
    report = build_report(rows, load_municipalities(), NOW)
    assert [(row.municipality.name, row.figures.shortage) for row in report.municipalities] == [
        ("Geel", 5), ("Laakdal", 0)]
    assert report.totals.shortage == 5  # Laakdal's free places do not cure Geel's shortage
    assert [(area.service_area, area.figures.shortage) for area in report.service_areas] == [
        ("area", 4), ("other", 1)]


def test_an_unknown_figure_is_a_bug_not_a_silent_zero() -> None:
    with pytest.raises(ValueError, match="not a counted figure"):
        build_report([CountedFacts("area", "13008", "shortage", 1)], {}, NOW)
