"""The Flemish municipalities (Statbel 2020) that name the figures."""

from __future__ import annotations

import csv
from pathlib import Path

from services.reporting.domain.model import Municipality

MUNICIPALITIES_CSV = Path(__file__).parents[1] / "reference" / "municipalities.csv"


def load_municipalities(path: Path = MUNICIPALITIES_CSV) -> dict[str, Municipality]:
    with path.open(encoding="utf-8", newline="") as file:
        return {
            row["nis_code"]: Municipality(
                nis=row["nis_code"],
                name=row["name"],
                arrondissement=row["arrondissement"],
                province=row["province"],
                inhabitants=int(row["inhabitants"]),
            )
            for row in csv.DictReader(file)
        }
