"""Postcode coordinates from the reference file intake ships (see reference/README.md)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from types import MappingProxyType

from services.intake.domain.locations import Coordinates

POSTCODES = Path(__file__).parent.parent / "reference" / "postcodes.csv"


@functools.cache
def postcode_coordinates(path: Path = POSTCODES) -> Coordinates:
    """postcode -> (longitude, latitude); read once per process."""
    with path.open(newline="", encoding="utf-8") as file:
        rows = {row["postcode"]: (float(row["lon"]), float(row["lat"]))
                for row in csv.DictReader(file)}
    return MappingProxyType(rows)
