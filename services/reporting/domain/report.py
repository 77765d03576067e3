"""A report: counted facts added up per municipality, per service area and in total.

Pure rules, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from loketkit.errors import Invalid
from services.reporting.domain.model import (
    COUNTED,
    UNKNOWN_NAME,
    Durations,
    Figures,
    Municipality,
    WaitingTimes,
)


@dataclass(frozen=True)
class CountedFacts:
    """One GROUP BY row: how many facts of one figure in one cell."""

    service_area: str
    municipality_nis: str
    figure: str
    count: int


@dataclass(frozen=True)
class MunicipalityFigures:
    municipality: Municipality
    figures: Figures
    durations: Durations = Durations()


@dataclass(frozen=True)
class ServiceAreaFigures:
    service_area: str
    figures: Figures
    durations: Durations = Durations()


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    service_areas: list[ServiceAreaFigures]
    municipalities: list[MunicipalityFigures]
    totals: Figures
    total_durations: Durations = Durations()


class UnknownMunicipality(Invalid):
    """Asked for a municipality neither the reference list nor the facts know (a 422)."""

    def __init__(self, nis: str) -> None:
        super().__init__("municipality_nis", "unknown municipality: in neither the reference "
                         "list nor the facts")
        self.nis = nis


def build_report(
    rows: Iterable[CountedFacts],
    reference: Mapping[str, Municipality],
    generated_at: datetime,
    always_show: Iterable[str] = (),
    waiting_times: Iterable[WaitingTimes] = (),
) -> Report:
    """Municipalities by name (unknown codes last), service areas by code."""
    durations = _durations(waiting_times)
    counted: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        if row.figure not in COUNTED:
            raise ValueError(f"not a counted figure: {row.figure}")
        cell = counted.setdefault((row.service_area, row.municipality_nis), {})
        cell[row.figure] = cell.get(row.figure, 0) + row.count
    cells = {key: Figures.of_cell(values) for key, values in counted.items()}
    by_nis = _sum_by(cells, lambda key: key[1])
    for nis in always_show:
        by_nis.setdefault(nis, Figures())
    by_area = _sum_by(cells, lambda key: key[0])
    municipalities = [
        MunicipalityFigures(reference.get(nis) or Municipality.unknown(nis), figures,
                            durations.get(("municipality", nis), Durations()))
        for nis, figures in by_nis.items()
    ]
    municipalities.sort(key=lambda m: (m.municipality.name == UNKNOWN_NAME,
                                       m.municipality.name, m.municipality.nis))
    return Report(
        generated_at=generated_at,
        service_areas=[ServiceAreaFigures(area, by_area[area],
                                          durations.get(("service_area", area), Durations()))
                       for area in sorted(by_area)],
        municipalities=municipalities,
        totals=sum(by_nis.values(), Figures()),
        total_durations=durations.get(("total", ""), Durations()),
    )


def _durations(rows: Iterable[WaitingTimes]) -> dict[tuple[str, str], Durations]:
    grouped: dict[tuple[str, str], list[WaitingTimes]] = {}
    for row in rows:
        grouped.setdefault((row.scope, row.key), []).append(row)
    return {group: Durations.of(found) for group, found in grouped.items()}


def _sum_by(
    cells: Mapping[tuple[str, str], Figures], key: Callable[[tuple[str, str]], str]
) -> dict[str, Figures]:
    sums: dict[str, Figures] = {}
    for cell_key, figures in cells.items():
        group = key(cell_key)
        sums[group] = sums.get(group, Figures()) + figures
    return sums
