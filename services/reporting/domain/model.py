"""Registration figures: what is counted, where, and the shortage that follows.

Pure rules, no I/O. The database counts facts with GROUP BY per service area
and municipality (a "cell"); this module names the counts, derives each cell's
shortage and adds cells up into municipalities, service areas and totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime

UNKNOWN_NAME = "onbekend"


@dataclass(frozen=True)
class Municipality:
    nis: str
    name: str
    arrondissement: str | None = None
    province: str | None = None
    inhabitants: int | None = None

    @classmethod
    def unknown(cls, nis: str) -> Municipality:
        """A code outside the reference list is still counted, never dropped."""
        return cls(nis, UNKNOWN_NAME)


def shortage(open_requests: int, open_free_places: int) -> int:
    """Open requests no open free place can answer; a surplus is no negative shortage."""
    return max(0, open_requests - open_free_places)


@dataclass(frozen=True)
class Figures:
    requests_submitted: int = 0
    requests_open: int = 0
    requests_withdrawn: int = 0
    crisis_requests: int = 0
    proposals: int = 0
    free_places: int = 0  # freed, not yet proposed, location not closed
    places_freed: int = 0  # every place ever announced free
    locations: int = 0
    closures: int = 0
    shortage: int = 0

    @classmethod
    def of_cell(cls, counted: Mapping[str, int]) -> Figures:
        """The figures of one service area in one municipality, from its counted facts."""
        values = {name: counted.get(name, 0) for name in COUNTED}
        return cls(**values, shortage=shortage(values["requests_open"], values["free_places"]))

    def __add__(self, other: Figures) -> Figures:
        # Shortages add up too: a free place in one municipality does not cure
        # another's shortage, so a total is the sum of its parts' shortages.
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)})


FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Figures))
COUNTED: frozenset[str] = frozenset(FIGURE_NAMES) - {"shortage"}


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


@dataclass(frozen=True)
class ServiceAreaFigures:
    service_area: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    service_areas: list[ServiceAreaFigures]
    municipalities: list[MunicipalityFigures]
    totals: Figures


class UnknownMunicipality(LookupError):
    """Asked for a municipality neither the reference list nor the facts know."""

    field = "municipality_nis"


def build_report(
    rows: Iterable[CountedFacts],
    reference: Mapping[str, Municipality],
    generated_at: datetime,
    always_show: Iterable[str] = (),
) -> Report:
    """Municipalities by name (unknown codes last), service areas by code."""
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
        MunicipalityFigures(reference.get(nis) or Municipality.unknown(nis), figures)
        for nis, figures in by_nis.items()
    ]
    municipalities.sort(key=lambda m: (m.municipality.name == UNKNOWN_NAME,
                                       m.municipality.name, m.municipality.nis))
    return Report(
        generated_at=generated_at,
        service_areas=[ServiceAreaFigures(area, by_area[area]) for area in sorted(by_area)],
        municipalities=municipalities,
        totals=sum(by_nis.values(), Figures()),
    )


def _sum_by(
    cells: Mapping[tuple[str, str], Figures], key: Callable[[tuple[str, str]], str]
) -> dict[str, Figures]:
    sums: dict[str, Figures] = {}
    for cell_key, figures in cells.items():
        group = key(cell_key)
        sums[group] = sums.get(group, Figures()) + figures
    return sums
