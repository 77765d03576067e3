"""The Flemish year's input, generated from real figures and deterministic per seed.

Every Flemish municipality (tools/bench/area.py reads Statbel's inhabitants and the
bpost coordinates from flanders.csv) with locations in proportion to its inhabitants
(about 7,000 at scale 1.0), the families' requests by birth rate (area.generate:
about 69,000 a year), and what the organisers' own systems send on their inbound
topics over the year, simulated per location so that capacity accepts every event:

- go-live: CapacityDeclared (the licence), EnrolmentsDeclared (the children already
  there: part-timers filling the licence but a reserve) and PlaceFreed for the reserve;
- a child leaves (school, a move): EnrolmentEnded, announced up to 60 days ahead, and a
  PlaceFreed from the day it leaves, for the day-parts with room then;
- a place for a toddlers' group (24-36 months; nobody on the loket's list is that old)
  the organiser fills itself after a while: PlaceWithdrawn, then EnrolmentsDeclared
  with the new child;
- a few group locations get a larger licence: CapacityDeclared and PlaceFreed.

Baby places stay open: offers and their answers belong to the loket's flow, not to
this replay. Registration dates are the twelve months before `start` (an import keeps
them); every capacity date lies in the twelve months from `start`, since capacity
refuses a free place dated more than 31 days back.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import cast

from contracts.events import (
    CapacityDeclared,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    EventData,
    PlaceFreed,
    PlaceWithdrawn,
)
from contracts.schedule import DAY_PARTS, DayPart, in_week_order
from services.matching.domain.model import WaitingRequest
from tools.bench.area import Municipality, Site, arrondissements, generate, km
from tools.demo.generate import FIRST_NAMES, LAST_NAMES, LOCATION_WORDS, weekly_pattern
from tools.infra.kafka_principals import DEMO_ORGANISERS

SERVICE_AREA = "kempen-gml"  # intake's and capacity's default area: the replay's loket
LOCATIONS = 7000  # Flemish childcare locations at scale 1.0, group and family care
DAYS = 365
FAMILY_CARE, FAMILY_CAPACITY = 0.55, (4, 8)  # the rest is group care, area.CAPACITY
RESERVE = {True: (0, 1), False: (1, 3)}  # go-live places left free, family care or not
STAY_DAYS = 840  # a child at go-live leaves within this many days (at ~3, for school)
STARTED_DAYS = (30, 900)  # how long before go-live the children there started
NOTICE_DAYS = (0, 60)  # how long ahead an organiser reports a child leaving
TODDLER_SHARE, TODDLER_AGES = 0.3, (24, 36)  # freed places for the toddlers' group
FILLED_AFTER_DAYS = (14, 60)  # a toddler place the organiser fills itself
LICENCE_RAISE, LICENCE_STEP = 0.08, (1, 4)  # group locations with a larger licence
MIN_PLACE_PARTS = 4  # fewer free day-parts than this are not worth announcing
PRIORITY_GROUP = 0.2
EMAIL, PARTIAL_FIT, SHARE_CONTACT = 0.95, 0.3, 0.9
REFERENCE_POSTCODES = (Path(__file__).resolve().parents[2]
                       / "services" / "intake" / "reference" / "postcodes.csv")
FLEMISH_POSTCODES = (range(1500, 4000), range(8000, 10000))
IMPORT_COLUMNS = (
    "child_first_name", "child_last_name", "child_birth_date", "parent_name", "email",
    "phone", "postcode", "municipality_nis", "desired_start_date", "day_parts",
    "preferred_location_ids", "registered_at", "parents_working_or_training",
    "works_at_least_four_fifths", "single_parent", "low_income", "foster_child",
    "accepts_partial_fit", "share_contact_with_organiser", "urgency")
FLAG_OF_FACT = {"work_or_training": "parents_working_or_training",
                "work_four_fifths": "works_at_least_four_fifths",
                "single_parent": "single_parent", "low_income": "low_income",
                "foster_child": "foster_child"}  # "vulnerable" needs staff: not imported


@dataclass(frozen=True)
class YearLocation:
    location_id: str
    name: str
    municipality_nis: str
    postcode: str
    capacity: int
    family_care: bool
    subsidy_tier: str
    organiser_id: str

    def body(self) -> dict[str, object]:
        """POST /locations on capacity, as the organiser's own system sends it."""
        return {"location_id": self.location_id, "name": self.name,
                "municipality_nis": self.municipality_nis, "postcode": self.postcode,
                "capacity": self.capacity, "subsidy_tier": self.subsidy_tier,
                "organiser_email": f"opvang.{self.location_id}@kinderopvang.example.be"}


@dataclass(frozen=True)
class CapacityEvent:
    """What an organiser's system sends on its inbound topic, `day` days after go-live."""

    day: int
    organiser_id: str
    data: EventData


@dataclass(frozen=True)
class Year:
    seed: int
    scale: float
    start: date
    municipalities: tuple[Municipality, ...]
    locations: list[YearLocation]
    requests: list[dict[str, str]]  # import rows, in registration order
    request_months: list[int]  # per row: the month of the year it was registered in
    events: list[CapacityEvent]  # in the order they are sent

    def inputs(self) -> int:
        """Everything the replay sends: locations, requests and organiser events."""
        return len(self.locations) + len(self.requests) + len(self.events)

    def event_counts(self) -> Counter[str]:
        return Counter(type(event.data).__name__ for event in self.events)

    def events_of_month(self, month: int) -> list[CapacityEvent]:
        return [e for e in self.events if month_of_day(e.day) == month]

    def describe(self) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count
                           in sorted(self.event_counts().items(), key=lambda kv: -kv[1]))
        people = sum(m.inhabitants for m in self.municipalities)
        return (f"{len(self.municipalities)} municipalities, {people:,} inhabitants, "
                f"{len(self.locations):,} locations, {len(self.requests):,} requests, "
                f"{len(self.events):,} capacity events ({counts})")


def month_of_day(day: int) -> int:
    return min(11, day * 12 // DAYS)


def generate_year(seed: int, scale: float = 1.0, start: date | None = None,
                  service_area: str = SERVICE_AREA) -> Year:
    start = start or date.today()
    area = generate(seed, arrondissements=arrondissements(),
                    locations=max(1, round(LOCATIONS * scale)), share_of_year=scale,
                    decision=start, months_ahead=0, period_months=12,
                    places_per_request=0, service_area=service_area)
    postcodes = main_postcodes(area.municipalities)
    locations = year_locations(random.Random(f"{seed}:kinds"), area.sites, postcodes)
    rows, months = import_rows(random.Random(f"{seed}:people"), area.requests, postcodes,
                               start)
    events = capacity_events(seed, locations, start, service_area)
    return Year(seed, scale, start, area.municipalities, locations, rows, months, events)


# --- locations ---------------------------------------------------------------------------------


def main_postcodes(municipalities: tuple[Municipality, ...]) -> dict[str, str]:
    """Per municipality, a Flemish postcode intake knows: the nearest one naming the
    municipality among its places, else the nearest to its centre."""
    known: list[tuple[str, set[str], float, float]] = []
    with REFERENCE_POSTCODES.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if any(int(row["postcode"]) in span for span in FLEMISH_POSTCODES):
                places = {_simple(place) for place in row["name"].split(" / ")}
                known.append((row["postcode"], places, float(row["lon"]), float(row["lat"])))
    found: dict[str, str] = {}
    for m in municipalities:
        named = [p for p in known if _simple(m.name) in p[1]] or known
        found[m.nis] = min(named, key=lambda p: km(m.lon, m.lat, p[2], p[3]))[0]
    return found


def _simple(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalpha())


def year_locations(rng: random.Random, sites: tuple[Site, ...],
                   postcodes: dict[str, str]) -> list[YearLocation]:
    """Area's sites, a good half of them family care (4-8 places); the demo organisers'
    systems take turns running them."""
    found: list[YearLocation] = []
    for number, site in enumerate(sites):
        family = rng.random() < FAMILY_CARE
        kind = "Gezinsopvang" if family else "Kinderdagverblijf"
        location = site.location
        found.append(YearLocation(
            location_id=location.location_id,
            name=f"{kind} {rng.choice(LOCATION_WORDS)} {location.location_id[-3:]}",
            municipality_nis=location.municipality_nis,
            postcode=postcodes[location.municipality_nis],
            capacity=rng.randint(*FAMILY_CAPACITY) if family else site.capacity,
            family_care=family, subsidy_tier=location.subsidy_tier,
            organiser_id=DEMO_ORGANISERS[number % len(DEMO_ORGANISERS)]))
    return found


# --- requests ----------------------------------------------------------------------------------


def import_rows(rng: random.Random, requests: list[WaitingRequest], postcodes: dict[str, str],
                start: date) -> tuple[list[dict[str, str]], list[int]]:
    """Import rows (tools: services/intake/entrypoints/imports.py), oldest first."""
    year_from = datetime.combine(start - timedelta(days=DAYS), time(), tzinfo=UTC)
    rows: list[dict[str, str]] = []
    months: list[int] = []
    for request in sorted(requests, key=lambda r: r.submitted_at):
        facts = set(request.facts)
        email = rng.random() < EMAIL
        number = len(rows) + 1
        row = {
            "child_first_name": rng.choice(FIRST_NAMES),
            "child_last_name": rng.choice(LAST_NAMES),
            "child_birth_date": (request.birth_month + timedelta(days=rng.randrange(28))
                                 ).isoformat(),
            "parent_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "email": f"gezin{number}@example.be" if email else "",
            "phone": f"+32 470 {rng.randint(100000, 999999)}",
            "postcode": postcodes[request.municipality_nis],
            "municipality_nis": request.municipality_nis,
            "desired_start_date": request.desired_start_date.isoformat(),
            "day_parts": " ".join(request.day_parts),
            "preferred_location_ids": ";".join(request.preferred_location_ids),
            "registered_at": request.submitted_at.isoformat(),
            **{flag: "ja" if fact in facts else "" for fact, flag in FLAG_OF_FACT.items()},
            "accepts_partial_fit": "ja" if rng.random() < PARTIAL_FIT else "nee",
            "share_contact_with_organiser": "ja" if rng.random() < SHARE_CONTACT else "nee",
            # imported urgency is staff's judgement; a crisis is not something to import
            "urgency": "urgent" if request.urgency != "normal" else "normal",
        }
        rows.append(row)
        months.append(month_of_day((request.submitted_at - year_from).days))
    return rows, months


def import_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def import_batches(year: Year, max_rows: int) -> list[list[dict[str, str]]]:
    """Each month's requests in as few equal batches of at most `max_rows` as fit."""
    batches: list[list[dict[str, str]]] = []
    for month in range(12):
        rows = [r for r, m in zip(year.requests, year.request_months, strict=True)
                if m == month]
        if not rows:
            continue
        parts = math.ceil(len(rows) / max_rows)
        size = math.ceil(len(rows) / parts)
        batches += [rows[i:i + size] for i in range(0, len(rows), size)]
    return batches


# --- capacity: what capacity knows of one location, and its year -------------------------------


@dataclass
class _Child:
    enrolment_id: str
    parts: frozenset[DayPart]
    start: date
    ends_on: date | None = None  # the first day it no longer counts
    priority_group: bool = False
    _declared: tuple[date | None, DeclaredEnrolment] | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.ends_on is None or day < self.ends_on)

    def declared(self) -> DeclaredEnrolment:
        """As the organiser declares it (made once per end date: validation is slow)."""
        if self._declared is None or self._declared[0] != self.ends_on:
            last = None if self.ends_on is None else self.ends_on - timedelta(days=1)
            self._declared = (self.ends_on, DeclaredEnrolment(
                enrolment_id=self.enrolment_id, start_date=self.start, end_date=last,
                day_parts=in_week_order(self.parts), priority_group=self.priority_group))
        return self._declared[1]


@dataclass
class _Ledger:
    """Capacity's rules for one location (services/capacity/domain/model.py): per
    day-part, enrolments active on a day plus every open place stay within the licence,
    on a place's first day and on each later day an enrolment starts."""

    licensed: int
    children: dict[str, _Child] = field(default_factory=dict)
    places: dict[str, tuple[date, frozenset[DayPart]]] = field(default_factory=dict)

    def room(self, day: date) -> list[DayPart]:
        """The day-parts with room for one more place from `day` on."""
        days = {day} | {c.start for c in self.children.values() if c.start > day}
        free = Counter(part for _, parts in self.places.values() for part in parts)
        busiest: Counter[DayPart] = Counter()
        for moment in days:
            busiest |= Counter(part for c in self.children.values() if c.active_on(moment)
                               for part in c.parts)
        return [part for part in DAY_PARTS if busiest[part] + free[part] < self.licensed]


@dataclass
class _Story:
    """One location's year, told as the events its organiser's system sends."""

    location: YearLocation
    service_area: str
    start: date
    rng: random.Random
    ledger: _Ledger
    events: list[CapacityEvent] = field(default_factory=list)
    pending: list[tuple[int, int, str, str]] = field(default_factory=list)  # day, n, what, id
    numbers: Counter[str] = field(default_factory=Counter)
    leave_day: dict[str, int] = field(default_factory=dict)  # child -> the day it leaves

    def new_id(self, kind: str) -> str:
        self.numbers[kind] += 1
        return f"{self.location.location_id}-{kind}{self.numbers[kind]:04d}"

    def later(self, day: int, what: str, about: str) -> None:
        if day < DAYS:
            heapq.heappush(self.pending, (day, len(self.events) + len(self.pending), what, about))

    def send(self, day: int, data: EventData) -> None:
        self.events.append(CapacityEvent(day, self.location.organiser_id, data))

    def moment(self, day: int) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time(9), tzinfo=UTC)

    @property
    def ids(self) -> dict[str, str]:
        return {"service_area": self.service_area, "location_id": self.location.location_id,
                "municipality_nis": self.location.municipality_nis}

    def licence(self, day: int) -> None:
        self.send(day, CapacityDeclared(**self.ids, licensed_places=self.ledger.licensed,
                                        declared_at=self.moment(day)))

    def declare(self, day: int) -> None:
        today = self.start + timedelta(days=day)
        # capacity replaces the declared list; a child gone before today is left out
        self.ledger.children = {k: c for k, c in self.ledger.children.items()
                                if c.ends_on is None or c.ends_on > today}
        # Built unchecked: the enrolments are checked each, and checking the whole list
        # again for every declaration would dominate the generation time.
        self.send(day, EnrolmentsDeclared.model_construct(
            service_area=self.service_area, location_id=self.location.location_id,
            municipality_nis=self.location.municipality_nis,
            enrolments=[c.declared() for c in self.ledger.children.values()],
            declared_at=self.moment(day)))

    def free_place(self, day: int, available: date, toddlers: bool) -> bool:
        parts = self.ledger.room(available)
        if len(parts) < MIN_PLACE_PARTS:
            return False
        place_id = self.new_id("p")
        self.ledger.places[place_id] = (available, frozenset(parts))
        low, high = TODDLER_AGES if toddlers else (0, 36)
        self.send(day, PlaceFreed(**self.ids, place_id=place_id, available_from=available,
                                  day_parts=list(parts), min_age_months=low,
                                  max_age_months=high, freed_at=self.moment(day)))
        if toddlers:
            self.later(day + self.rng.randint(*FILLED_AFTER_DAYS), "fill", place_id)
        return True

    def go_live(self) -> None:
        rng, ledger = self.rng, self.ledger
        self.licence(0)
        reserve = rng.randint(*RESERVE[self.location.family_care])
        misses = 0
        while misses < 8:  # part-timers until the licence is full but the reserve
            parts = cast(frozenset[DayPart], frozenset(weekly_pattern(rng)))
            if all(sum(part in c.parts for c in ledger.children.values()) + reserve
                   < ledger.licensed for part in parts):
                child = _Child(self.new_id("k"), parts,
                               self.start - timedelta(days=rng.randint(*STARTED_DAYS)),
                               priority_group=rng.random() < PRIORITY_GROUP)
                ledger.children[child.enrolment_id] = child
                leaves = rng.randint(1, STAY_DAYS)
                self.leave_day[child.enrolment_id] = leaves
                self.later(max(1, leaves - rng.randint(*NOTICE_DAYS)), "leave",
                           child.enrolment_id)
            else:
                misses += 1
        self.declare(0)
        for _ in range(reserve):
            self.free_place(0, self.start + timedelta(days=rng.randint(30, 120)), False)
        if not self.location.family_care and rng.random() < LICENCE_RAISE:
            self.later(rng.randint(30, DAYS - 30), "raise", "")

    def happen(self, day: int, what: str, about: str) -> None:
        rng, ledger = self.rng, self.ledger
        if what == "leave":
            child = ledger.children[about]
            child.ends_on = self.start + timedelta(days=self.leave_day[about])
            self.send(day, EnrolmentEnded(**self.ids, enrolment_id=about,
                                          ended_on=child.ends_on, reason="left",
                                          recorded_at=self.moment(day)))
            self.free_place(day, child.ends_on, rng.random() < TODDLER_SHARE)
        elif what == "fill":
            available, parts = ledger.places.pop(about)
            self.send(day, PlaceWithdrawn(**self.ids, place_id=about,
                                          withdrawn_at=self.moment(day)))
            child = _Child(self.new_id("k"), parts, available,
                           priority_group=rng.random() < PRIORITY_GROUP)
            ledger.children[child.enrolment_id] = child
            self.declare(day)
        elif what == "raise":
            step = rng.randint(*LICENCE_STEP)
            ledger.licensed += step
            self.licence(day)
            for _ in range(step):
                self.free_place(day, self.start + timedelta(days=day + 30), False)

    def tell(self) -> list[CapacityEvent]:
        self.go_live()
        while self.pending:
            day, _, what, about = heapq.heappop(self.pending)
            self.happen(day, what, about)
        return self.events


def capacity_events(seed: int, locations: list[YearLocation], start: date,
                    service_area: str) -> list[CapacityEvent]:
    """Every location's story (each from its own random stream, so a location's year
    does not depend on the others), merged by day; a location's own order is kept."""
    stories = [
        _Story(location, service_area, start,
               random.Random(f"{seed}:capacity:{location.location_id}"),
               _Ledger(location.capacity)).tell()
        for location in locations]
    order = sorted((event.day, index, n) for index, story in enumerate(stories)
                   for n, event in enumerate(story))
    return [stories[index][n] for _, index, n in order]
