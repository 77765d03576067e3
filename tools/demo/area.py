"""The demo service area: Geel, Laakdal and Meerhout (real Statbel figures, bpost postcodes)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
SERVICE_AREA = "kempen-gml"
# Roughly 1.0 to 1.1 births per 100 inhabitants per year in Flanders.
BIRTHS_PER_INHABITANT_YEAR = 0.0105


@dataclass(frozen=True)
class Municipality:
    nis_code: str
    name: str
    inhabitants: int


@dataclass(frozen=True)
class Place:
    postcode: str
    name: str
    municipality_nis: str
    longitude: float
    latitude: float

    def km_to(self, other: Place) -> float:
        dx = (self.longitude - other.longitude) * 111.32 * math.cos(math.radians(self.latitude))
        dy = (self.latitude - other.latitude) * 110.57
        return math.hypot(dx, dy)


def municipalities() -> list[Municipality]:
    with (HERE / "municipalities.csv").open() as handle:
        return [Municipality(row["nis_code"], row["name"], int(row["inhabitants"]))
                for row in csv.DictReader(handle)]


def places() -> list[Place]:
    with (HERE / "postcodes.csv").open() as handle:
        return [Place(row["postcode"], row["place"], row["municipality_nis"],
                      float(row["longitude"]), float(row["latitude"]))
                for row in csv.DictReader(handle)]
