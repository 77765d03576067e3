"""Registration figures: what is counted, where, and the shortage that follows.

Pure rules, no I/O. The database counts facts with GROUP BY per service area
and municipality (a "cell"); this module names the counts and derives each
cell's shortage; `report` adds cells up into municipalities, areas and totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

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
    free_places: int = 0  # every place announced free
    free_places_open: int = 0  # of those: not yet proposed, location not closed
    locations: int = 0
    closures: int = 0
    shortage: int = 0

    @classmethod
    def of_cell(cls, counted: Mapping[str, int]) -> Figures:
        """The figures of one service area in one municipality, from its counted facts."""
        values = {name: counted.get(name, 0) for name in COUNTED}
        open_requests, open_places = values["requests_open"], values["free_places_open"]
        return cls(**values, shortage=shortage(open_requests, open_places))

    def __add__(self, other: Figures) -> Figures:
        # Shortages add up too: a free place in one municipality does not cure
        # another's shortage, so a total is the sum of its parts' shortages.
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)})


FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Figures))
COUNTED: frozenset[str] = frozenset(FIGURE_NAMES) - {"shortage"}
