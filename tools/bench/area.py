"""Synthetic service areas for the matching benchmarks, sized by real figures.

Municipalities, their arrondissements and inhabitants are Statbel's (2020); each
municipality sits at the bpost coordinates of its main postcode. Both come from
`flanders.csv` next to this file (every Flemish municipality), copied from the
shared data set by `python -m tools.bench.area` so the benchmarks need nothing
outside the repo.

Everything is drawn from `random.Random` streams seeded from one seed, one stream
per part (locations, requests, places), so the same seed gives the same area, and
asking more requests leaves the locations as they were.

- Locations: about one per 5,000 inhabitants (at least one per municipality),
  subsidy tiers drawn like the demo's (tools/demo/generate.py), 14-36 licensed
  places, about 1.3 children per place already enrolled (part-timers), of whom a
  drawn 5-35% from the priority groups.
- Requests: births (1.05 per 100 inhabitants a year) times the share of a year
  asked, by municipality weighted by population; facts at realistic rates;
  registered over the 12 months before the decision date; a desired start in the
  round period; a child 3-14 months old at that start; 1-5 choices, the nearest
  locations to the family's home (the municipality's centre plus a few km), own
  municipality first; mostly a full week, some four days.
- Free places: about 0.6 per request, at locations in proportion to their
  capacity, starting over the round period, for ages 0-36 months, a full week.
"""

from __future__ import annotations

import csv
import math
import random
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import cast

from contracts.events.capacity import SubsidyTier
from contracts.schedule import DAY_PARTS, FULL_WEEK, DayPart
from services.matching.domain.model import (
    FreePlace,
    KnownLocation,
    Urgency,
    WaitingRequest,
    shift_months,
)
from tools.demo.area import BIRTHS_PER_INHABITANT_YEAR
from tools.demo.generate import TIERS

HERE = Path(__file__).parent
FLANDERS_CSV = HERE / "flanders.csv"
SHARED_DATA = Path("/work/shared/data")  # where `refresh` copies from

INHABITANTS_PER_LOCATION = 5000
CAPACITY = (14, 36)
ENROLLED_PER_PLACE = 1.3  # part-timers: more children than licensed places
PRIORITY_ENROLLED_SHARE = (0.05, 0.35)
FREE_PLACES_PER_REQUEST = 0.6
FACT_RATES: dict[str, float] = {
    "work_or_training": 0.75, "single_parent": 0.12, "low_income": 0.15,
    "foster_child": 0.01, "vulnerable": 0.08,
}
FOUR_FIFTHS_OF_WORKING = 0.1  # of working parents, those working at least 4/5
URGENT, CRISIS = 0.02, 0.005
CHOICE_COUNTS = (1, 2, 3, 4, 5)
CHOICE_WEIGHTS = (15, 25, 30, 20, 10)
FOUR_DAYS = 0.2  # the rest asks a full week
AGE_AT_START_MONTHS = (3, 14)
NEIGHBOUR_SITES = 15  # locations outside the own municipality a family looks at
OWN_MUNICIPALITY_FACTOR = 0.5  # a location at home "counts" as half as far
DECISION = date(2026, 5, 1)
MONTHS_AHEAD = 4  # Turnhout decides four months before the start date
PERIOD_MONTHS = 3


@dataclass(frozen=True)
class Municipality:
    nis: str
    name: str
    arrondissement: str
    inhabitants: int
    lon: float
    lat: float


@dataclass(frozen=True)
class Site:
    """A generated location: what matching knows of it, plus what generation needs."""

    location: KnownLocation
    capacity: int
    lon: float
    lat: float


@dataclass(frozen=True)
class Area:
    service_area: str
    seed: int
    decision: date
    period_from: date
    period_to: date
    municipalities: tuple[Municipality, ...]
    sites: tuple[Site, ...]
    requests: list[WaitingRequest]
    places: list[FreePlace]

    @property
    def locations(self) -> dict[str, KnownLocation]:
        return {site.location.location_id: site.location for site in self.sites}

    @property
    def inhabitants(self) -> int:
        return sum(m.inhabitants for m in self.municipalities)

    def describe(self) -> str:
        arrondissements = sorted({m.arrondissement for m in self.municipalities})
        return (f"{self.service_area}: {len(self.municipalities)} municipalities "
                f"({', '.join(arrondissements)}), {self.inhabitants:,} inhabitants, "
                f"{len(self.sites)} locations, {len(self.requests):,} requests, "
                f"{len(self.places):,} free places")


def km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on a local flat projection: good enough within Flanders."""
    dx = (lon1 - lon2) * 111.32 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat1 - lat2) * 110.57
    return math.hypot(dx, dy)


def flanders() -> list[Municipality]:
    with FLANDERS_CSV.open(encoding="utf-8") as handle:
        return [Municipality(row["nis"], row["name"], row["arrondissement"],
                             int(row["inhabitants"]), float(row["lon"]), float(row["lat"]))
                for row in csv.DictReader(handle)]


def arrondissements() -> list[str]:
    return sorted({m.arrondissement for m in flanders()})


# --- which municipalities, how many locations ------------------------------------------------


def _centroid(municipalities: Sequence[Municipality]) -> tuple[float, float]:
    total = sum(m.inhabitants for m in municipalities)
    return (sum(m.lon * m.inhabitants for m in municipalities) / total,
            sum(m.lat * m.inhabitants for m in municipalities) / total)


def natural_locations(municipality: Municipality) -> int:
    return max(1, round(municipality.inhabitants / INHABITANTS_PER_LOCATION))


def around(anchor: str, target_locations: int) -> list[Municipality]:
    """Whole arrondissements, the anchor first and then the nearest (population-weighted
    centres), until they hold at least `target_locations` locations."""
    by_arrondissement: dict[str, list[Municipality]] = defaultdict(list)
    for municipality in flanders():
        by_arrondissement[municipality.arrondissement].append(municipality)
    if anchor not in by_arrondissement:
        raise ValueError(f"unknown arrondissement {anchor!r}; known: {sorted(by_arrondissement)}")
    centre = _centroid(by_arrondissement[anchor])
    order = sorted(by_arrondissement, key=lambda name: (
        name != anchor, km(*centre, *_centroid(by_arrondissement[name]))))
    chosen: list[Municipality] = []
    for name in order:
        chosen.extend(by_arrondissement[name])
        if sum(natural_locations(m) for m in chosen) >= target_locations:
            break
    return chosen


def location_counts(municipalities: Sequence[Municipality],
                    target: int | None) -> dict[str, int]:
    """Locations per municipality: ~inhabitants/5000 (at least 1), or, with a target,
    in proportion to inhabitants summing to exactly the target (largest remainder; the
    smallest municipalities get none when the target is below one each)."""
    if target is None:
        return {m.nis: natural_locations(m) for m in municipalities}
    ranked = sorted(municipalities, key=lambda m: (-m.inhabitants, m.nis))[:max(1, target)]
    counts = {m.nis: 1 for m in ranked}
    left = target - len(ranked)
    total = sum(m.inhabitants for m in ranked)
    shares = {m.nis: left * m.inhabitants / total for m in ranked}
    for nis, share in shares.items():
        counts[nis] += int(share)
    remainder = target - sum(counts.values())
    for nis in sorted(shares, key=lambda n: (-(shares[n] - int(shares[n])), n))[:remainder]:
        counts[nis] += 1
    return counts


# --- generation -------------------------------------------------------------------------------


def _jitter(rng: random.Random, lon: float, lat: float, sd_km: float) -> tuple[float, float]:
    return (lon + rng.gauss(0, sd_km) / (111.32 * math.cos(math.radians(lat))),
            lat + rng.gauss(0, sd_km) / 110.57)


def _spread_km(municipality: Municipality) -> float:
    """How far homes and locations lie from the municipality's centre (a city is larger)."""
    return 1.0 + math.sqrt(municipality.inhabitants) / 150


def _sites(rng: random.Random, municipalities: Sequence[Municipality],
           counts: dict[str, int]) -> list[Site]:
    sites: list[Site] = []
    for municipality in municipalities:
        for number in range(counts.get(municipality.nis, 0)):
            capacity = rng.randint(*CAPACITY)
            enrolled = round(capacity * ENROLLED_PER_PLACE)
            share = rng.uniform(*PRIORITY_ENROLLED_SHARE)
            lon, lat = _jitter(rng, municipality.lon, municipality.lat,
                               _spread_km(municipality))
            sites.append(Site(
                location=KnownLocation(
                    location_id=f"loc-{municipality.nis}-{number + 1:03d}",
                    municipality_nis=municipality.nis,
                    subsidy_tier=cast(SubsidyTier, rng.choice(TIERS)),
                    enrolled=enrolled, priority_enrolled=round(enrolled * share)),
                capacity=capacity, lon=lon, lat=lat))
    return sites


def _near(municipalities: Sequence[Municipality], sites: Sequence[Site]
          ) -> dict[str, list[Site]]:
    """Per municipality, the locations its families look at: its own and the nearest
    others (by distance from its centre)."""
    found: dict[str, list[Site]] = {}
    for municipality in municipalities:
        own = [s for s in sites if s.location.municipality_nis == municipality.nis]
        others = sorted((s for s in sites if s.location.municipality_nis != municipality.nis),
                        key=lambda s: km(municipality.lon, municipality.lat, s.lon, s.lat))
        found[municipality.nis] = own + others[:NEIGHBOUR_SITES]
    return found


def _day_parts(rng: random.Random) -> tuple[DayPart, ...]:
    if rng.random() >= FOUR_DAYS:
        return FULL_WEEK
    free_day = rng.randrange(5)
    return tuple(part for index, part in enumerate(DAY_PARTS) if index // 2 != free_day)


def _facts(rng: random.Random) -> tuple[str, ...]:
    facts = [name for name, rate in FACT_RATES.items() if rng.random() < rate]
    if "work_or_training" in facts and rng.random() < FOUR_FIFTHS_OF_WORKING:
        facts.insert(1, "work_four_fifths")
    return tuple(facts)


def _urgency(rng: random.Random) -> Urgency:
    draw = rng.random()
    return "crisis" if draw < CRISIS else "urgent" if draw < CRISIS + URGENT else "normal"


def _requests(rng: random.Random, service_area: str, count: int,
              municipalities: Sequence[Municipality], sites: Sequence[Site],
              decision: date, period_from: date, period_to: date) -> list[WaitingRequest]:
    # Per municipality: (x km, y km, weight, location id) of the locations its families
    # look at, on a flat projection around the municipality's centre (fast enough for
    # 100,000 families).
    near: dict[str, list[tuple[float, float, float, str]]] = {}
    looked_at = _near(municipalities, sites)
    for municipality in municipalities:
        kx = 111.32 * math.cos(math.radians(municipality.lat))
        near[municipality.nis] = [
            (s.lon * kx, s.lat * 110.57,
             OWN_MUNICIPALITY_FACTOR if s.location.municipality_nis == municipality.nis
             else 1.0, s.location.location_id)
            for s in looked_at[municipality.nis]]
    homes = rng.choices(municipalities, weights=[m.inhabitants for m in municipalities],
                        k=count)
    decided = datetime.combine(decision, time(0), tzinfo=UTC)
    year = 365 * 24 * 3600
    period_days = (period_to - period_from).days + 1
    found: list[WaitingRequest] = []
    draw = rng.random
    for number, home in enumerate(homes):
        lon, lat = _jitter(rng, home.lon, home.lat, _spread_km(home))
        kx = 111.32 * math.cos(math.radians(home.lat))
        x, y = lon * kx, lat * 110.57
        # distance plus up to 1.5 km of taste, a location at home counting half
        scored = sorted(((math.hypot(sx - x, sy - y) + 1.5 * draw()) * weight, location_id)
                        for sx, sy, weight, location_id in near[home.nis])
        wanted = rng.choices(CHOICE_COUNTS, weights=CHOICE_WEIGHTS)[0]
        start = period_from + timedelta(days=rng.randrange(period_days))
        found.append(WaitingRequest(
            request_id=f"req-{number + 1:06d}", service_area=service_area,
            municipality_nis=home.nis,
            birth_month=shift_months(start.replace(day=1),
                                     -rng.randint(*AGE_AT_START_MONTHS)),
            desired_start_date=start, day_parts=_day_parts(rng),
            preferred_location_ids=tuple(loc for _, loc in scored[:wanted]),
            sibling_location_ids=(), facts=_facts(rng), urgency=_urgency(rng),
            submitted_at=decided - timedelta(seconds=rng.randrange(1, year))))
    return found


def _places(rng: random.Random, service_area: str, count: int, sites: Sequence[Site],
            period_from: date, period_to: date) -> list[FreePlace]:
    chosen = rng.choices(sites, weights=[s.capacity for s in sites], k=count)
    period_days = (period_to - period_from).days + 1
    return [FreePlace(
        place_id=f"place-{number + 1:06d}", service_area=service_area,
        location_id=site.location.location_id,
        municipality_nis=site.location.municipality_nis,
        available_from=period_from + timedelta(days=rng.randrange(period_days)),
        min_age_months=0, max_age_months=36, day_parts=FULL_WEEK)
        for number, site in enumerate(chosen)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def generate(seed: int, *, arrondissements: Sequence[str] | None = None,
             locations: int | None = None, requests: int | None = None,
             share_of_year: float = 1.0, anchor: str = "Turnhout",
             decision: date = DECISION, months_ahead: int = MONTHS_AHEAD,
             period_months: int = PERIOD_MONTHS,
             places_per_request: float = FREE_PLACES_PER_REQUEST,
             service_area: str | None = None) -> Area:
    """An area from whole arrondissements (by name), or, given a target number of
    locations, the arrondissements nearest `anchor` that hold that many (scaled to
    exactly that many). Requests: `requests`, or the area's births over
    `share_of_year`. The round period starts `months_ahead` months after the decision
    date (its month's first day) and lasts `period_months` months."""
    if arrondissements:
        wanted = set(arrondissements)
        municipalities = [m for m in flanders() if m.arrondissement in wanted]
        if missing := wanted - {m.arrondissement for m in municipalities}:
            raise ValueError(f"unknown arrondissement(s) {sorted(missing)}")
    else:
        municipalities = around(anchor, locations or 1)
    counts = location_counts(municipalities, locations)
    municipalities = [m for m in municipalities if counts.get(m.nis, 0) > 0]
    name = service_area or "bench-" + slug(
        "-".join(sorted(arrondissements)) if arrondissements else anchor)
    period_from = shift_months(decision.replace(day=1), months_ahead)
    period_to = shift_months(period_from, period_months) - timedelta(days=1)
    sites = _sites(random.Random(f"{seed}:locations"), municipalities, counts)
    count = requests if requests is not None else round(
        sum(m.inhabitants for m in municipalities) * BIRTHS_PER_INHABITANT_YEAR
        * share_of_year)
    found = _requests(random.Random(f"{seed}:requests"), name, count, municipalities, sites,
                      decision, period_from, period_to)
    places = _places(random.Random(f"{seed}:places"), name,
                     round(places_per_request * count), sites, period_from, period_to)
    return Area(service_area=name, seed=seed, decision=decision, period_from=period_from,
                period_to=period_to, municipalities=tuple(municipalities),
                sites=tuple(sites), requests=found, places=places)


# --- the data file -----------------------------------------------------------------------------


def _simple(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def refresh(shared: Path = SHARED_DATA) -> int:
    """Writes flanders.csv from the shared Statbel and bpost files: every municipality of
    the Flemish Region, at the coordinates of its main postcode (the postcode's place
    named like the municipality, else the mean of the postcode's places)."""
    coordinates: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    with (shared / "be_postcodes.csv").open(encoding="utf-8") as handle:
        for postcode, place, lon, lat in csv.reader(handle):
            coordinates[postcode].append((place, float(lon), float(lat)))
    rows: list[dict[str, str]] = []
    with (shared / "be_municipalities_2020.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["region_NL"] != "Vlaams Gewest":
                continue
            places = coordinates[row["zip"]]
            named = [p for p in places if _simple(p[0]) == _simple(row["municipality_NL"])]
            picked = named or places
            rows.append({
                "nis": row["NIS_code"], "name": row["municipality_NL"],
                "arrondissement": row["arrondissement_NL"], "inhabitants": row["inhabitants"],
                "lon": f"{sum(p[1] for p in picked) / len(picked):.6f}",
                "lat": f"{sum(p[2] for p in picked) / len(picked):.6f}"})
    rows.sort(key=lambda r: r["nis"])
    with FLANDERS_CSV.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED_DATA
    print(f"{refresh(source)} municipalities written to {FLANDERS_CSV}")
