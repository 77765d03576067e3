"""The Flemish year's input (tools/bench/year_data.py): real proportions, the same per
seed, importable as intake reads it, and accepted by capacity's own rules."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from contracts.events import (
    ORGANISER_INBOUND,
    CapacityDeclared,
    EnrolmentEnded,
    EnrolmentsDeclared,
    PlaceFreed,
    PlaceWithdrawn,
)
from services.capacity.domain.model import (
    Enrolment,
    EnrolmentSource,
    FreePlace,
    Location,
    PlaceOffer,
    PlaceSource,
    PlaceStatus,
    check_declared,
    schedule,
)
from services.intake.entrypoints.imports import MAX_BYTES, MAX_ROWS, parse_waiting_list
from tools.bench.area import flanders, location_counts
from tools.bench.year import year_env
from tools.bench.year_data import (
    LOCATIONS,
    TODDLER_AGES,
    Year,
    generate_year,
    import_batches,
    import_csv,
    main_postcodes,
)
from tools.demo.area import BIRTHS_PER_INHABITANT_YEAR

SEED = 7
START = date(2026, 5, 1)
SCALE = 0.05  # the smallest at which every municipality has a location


@pytest.fixture(scope="module")
def year() -> Year:
    return generate_year(SEED, SCALE, start=START)


def test_the_same_seed_gives_the_same_year() -> None:
    first, again = (generate_year(SEED, 0.01, start=START) for _ in range(2))
    assert again.locations == first.locations
    assert again.requests == first.requests
    assert again.events == first.events
    other = generate_year(SEED + 1, 0.01, start=START)
    assert other.requests != first.requests
    assert other.events != first.events


def test_totals_scale_with_the_population(year: Year) -> None:
    double = generate_year(SEED, 2 * SCALE, start=START)
    assert len(year.municipalities) == len(double.municipalities) == 300
    assert len(year.locations) == round(LOCATIONS * SCALE)
    assert len(double.locations) == 2 * len(year.locations)
    births = sum(m.inhabitants for m in year.municipalities) * BIRTHS_PER_INHABITANT_YEAR
    assert len(year.requests) == pytest.approx(births * SCALE, rel=0.01)
    assert len(double.requests) == pytest.approx(2 * len(year.requests), rel=0.03)
    assert len(double.events) == pytest.approx(2 * len(year.events), rel=0.15)
    per_location = len(year.events) / len(year.locations)
    assert 15 < per_location < 30  # ~150,000 for ~7,000 locations at scale 1.0


def test_every_flemish_municipality_takes_part_at_scale_one() -> None:
    municipalities = flanders()
    counts = location_counts(municipalities, LOCATIONS)
    assert len(municipalities) == 300
    assert sum(counts.values()) == LOCATIONS
    assert min(counts.values()) >= 1
    assert set(year_env()["SERVICE_AREA_MUNICIPALITIES"].split(",")) == {
        m.nis for m in municipalities}


def test_each_municipality_has_its_own_postcode() -> None:
    postcodes = main_postcodes(tuple(flanders()))
    assert len(postcodes) == 300 and len(set(postcodes.values())) >= 295
    # Antwerpen, Gent, Leuven, and Hamme (Oost-Vlaanderen; Merchtem has a Hamme too)
    assert [postcodes[nis] for nis in ("11002", "44021", "24062", "42008")] == [
        "2000", "9000", "3000", "9220"]


def test_requests_follow_the_population(year: Year) -> None:
    per_municipality = Counter(row["municipality_nis"] for row in year.requests)
    assert per_municipality.most_common(1)[0][0] == "11002"  # Antwerpen
    assert sorted(year.request_months) == year.request_months  # registration order
    assert set(year.request_months) == set(range(12))


def test_the_imports_read_as_intake_reads_them(year: Year) -> None:
    batches = import_batches(year, MAX_ROWS)
    assert sum(len(batch) for batch in batches) == len(year.requests)
    known = {location.location_id for location in year.locations}
    for batch in batches:
        text = import_csv(batch)
        assert len(text.encode()) < MAX_BYTES
        command = parse_waiting_list(text, "test")
        assert len(command.rows) == len(batch) <= MAX_ROWS
        for row in command.rows:
            assert set(row.request.preferred_location_ids) <= known
    split = import_batches(year, 100)  # a month in equal parts of at most 100
    assert len(split) > 12 and max(map(len, split)) <= 100


def test_the_mix_is_what_organisers_send(year: Year) -> None:
    counts = year.event_counts()
    assert set(counts) == {"CapacityDeclared", "EnrolmentsDeclared", "PlaceFreed",
                           "PlaceWithdrawn", "EnrolmentEnded"}
    assert counts["CapacityDeclared"] >= len(year.locations)
    assert counts["PlaceFreed"] > counts["PlaceWithdrawn"]
    organiser_of = {loc.location_id: loc.organiser_id for loc in year.locations}
    for event in year.events:
        assert type(event.data) in ORGANISER_INBOUND
        type(event.data).model_validate(event.data.model_dump())  # valid, also if built fast
        assert organiser_of[event.data.location_id] == event.organiser_id  # type: ignore[attr-defined]
        assert 0 <= event.day < 365
    assert [e.day for e in year.events] == sorted(e.day for e in year.events)


def test_no_request_fits_a_place_the_organiser_withdraws(year: Year) -> None:
    """Matching never offers a toddlers' place, so withdrawing it cannot race an offer."""
    toddlers = {e.data.place_id for e in year.events if isinstance(e.data, PlaceFreed)
                and (e.data.min_age_months, e.data.max_age_months) == TODDLER_AGES}
    withdrawn = {e.data.place_id for e in year.events if isinstance(e.data, PlaceWithdrawn)}
    assert withdrawn and withdrawn <= toddlers
    oldest = max(
        (date.fromisoformat(row["desired_start_date"]) + timedelta(days=92)
         - date.fromisoformat(row["child_birth_date"])).days / 30.4
        for row in year.requests)
    assert oldest < TODDLER_AGES[0]


def test_capacity_accepts_every_event(year: Year) -> None:
    """Each event applied with capacity's own domain rules, in the order sent."""
    locations = {loc.location_id: Location(
        location_id=loc.location_id, service_area="kempen-gml", name=loc.name,
        municipality_nis=loc.municipality_nis, postcode=loc.postcode, capacity=loc.capacity,
        subsidy_tier="basic", organiser_id=loc.organiser_id) for loc in year.locations}
    enrolments: dict[str, dict[str, Enrolment]] = {key: {} for key in locations}
    places: dict[str, dict[str, FreePlace]] = {key: {} for key in locations}
    for event in year.events:
        data = event.data
        location = locations[data.location_id]  # type: ignore[attr-defined]
        here, open_here = enrolments[location.location_id], places[location.location_id]
        if isinstance(data, CapacityDeclared):
            location.declare_capacity(data.licensed_places)
        elif isinstance(data, EnrolmentsDeclared):
            declared = [Enrolment(
                enrolment_id=e.enrolment_id, location_id=location.location_id,
                day_parts=schedule(e.day_parts), start_date=e.start_date,
                ends_on=None if e.end_date is None else e.end_date + timedelta(days=1),
                source=EnrolmentSource.DECLARED) for e in data.enrolments]
            check_declared(location, declared, [])
            enrolments[location.location_id] = {e.enrolment_id: e for e in declared}
        elif isinstance(data, PlaceFreed):
            offer = PlaceOffer(available_from=data.available_from,
                               day_parts=schedule(data.day_parts),
                               min_age_months=data.min_age_months,
                               max_age_months=data.max_age_months)
            (place,) = location.offer([data.place_id], offer, PlaceSource.ORGANISER, START,
                                      list(here.values()), list(open_here.values()))
            open_here[place.place_id] = place
        elif isinstance(data, PlaceWithdrawn):
            assert open_here.pop(data.place_id).status is PlaceStatus.OPEN
        elif isinstance(data, EnrolmentEnded):
            enrolment = here[data.enrolment_id]
            assert data.ended_on >= enrolment.start_date
            here[data.enrolment_id] = enrolment.end(data.ended_on, data.reason)
