"""Synthetic but realistic demo data for the service area, reproducible from a seed.

Locations per municipality follow the population; requests follow the birth
rate; families choose the nearest locations, mostly in their own municipality.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from tools.demo.area import BIRTHS_PER_INHABITANT_YEAR, Place, municipalities, places
from tools.infra.kafka_principals import DEMO_ORGANISERS

FIRST_NAMES = ["Noah", "Olivia", "Arthur", "Louise", "Jules", "Mila", "Lucas", "Nora", "Finn",
               "Lina", "Leon", "Ella", "Mats", "Julia", "Vic", "Marie", "Lars", "Fien", "Warre",
               "Lotte", "Nand", "Hanne", "Seppe", "Amber", "Rune", "Yara", "Amir", "Aya"]
LAST_NAMES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
              "Wouters", "De Smet", "Vermeulen", "Van den Broeck", "Verhoeven", "Aerts", "Smets",
              "Hendrickx", "Van Dyck", "Boeckx", "Geens", "Kerkhofs", "Yilmaz", "El Amrani"]
LOCATION_WORDS = ["Zonneke", "Het Speelhuisje", "De Kabouterhut", "Pimpernel", "Klavertje",
                  "De Rakkers", "Ukkepuk", "Het Nestje", "Berenboot", "De Vlindertuin",
                  "Kriebel", "Sterretje", "Het Molentje", "De Boomhut", "Wiegeltje"]
TIERS = ["basic", "income_related", "income_related", "plus", "free_price"]
DAYS = ["mon", "tue", "wed", "thu", "fri"]
FULL_WEEK = [f"{day}_{half}" for day in DAYS for half in ("am", "pm")]


def weekly_pattern(rng: random.Random) -> list[str]:
    """What families ask for: mostly full days, three to five a week, sometimes mornings only."""
    days = sorted(rng.sample(range(5), rng.choice([3, 4, 4, 5, 5])))
    halves = ("am",) if rng.random() < 0.1 else ("am", "pm")
    return [f"{DAYS[day]}_{half}" for day in days for half in halves]


def locations(rng: random.Random) -> list[dict[str, Any]]:
    by_nis: dict[str, list[Place]] = {}
    for place in places():
        by_nis.setdefault(place.municipality_nis, []).append(place)
    names = iter(rng.sample(LOCATION_WORDS, len(LOCATION_WORDS)))
    result: list[dict[str, Any]] = []
    for municipality in municipalities():
        for number in range(max(2, round(municipality.inhabitants / 5000))):
            place = rng.choice(by_nis[municipality.nis_code])
            family_care = rng.random() < 0.3
            result.append({
                "location_id": f"loc-{municipality.nis_code}-{number + 1:02d}",
                "name": f"{'Gezinsopvang' if family_care else 'Kinderdagverblijf'} "
                        f"{next(names)} ({place.name})",
                "municipality_nis": municipality.nis_code,
                "postcode": place.postcode,
                "capacity": rng.randint(4, 8) if family_care else rng.randint(14, 36),
                "subsidy_tier": rng.choice(TIERS),
                "organiser_email": f"opvang.{municipality.nis_code}.{number + 1:02d}"
                                   "@kinderopvang.example.be",
                # the demo organisers take turns; each announces on its own Kafka topic
                "organiser_id": DEMO_ORGANISERS[len(result) % len(DEMO_ORGANISERS)],
            })
    return result


def requests(rng: random.Random, chosen: list[dict[str, Any]], today: date,
             share_of_year: float = 0.25) -> list[dict[str, Any]]:
    place_of = {(p.postcode, p.municipality_nis): p for p in places()}
    location_places = [(loc, place_of[(loc["postcode"], loc["municipality_nis"])])
                       for loc in chosen]
    result: list[dict[str, Any]] = []
    for municipality in municipalities():
        homes = [p for p in places() if p.municipality_nis == municipality.nis_code]
        count = round(municipality.inhabitants * BIRTHS_PER_INHABITANT_YEAR * share_of_year)
        for _ in range(count):
            home = rng.choice(homes)
            nearest = sorted(location_places, key=lambda lp: home.km_to(lp[1]))
            wanted = [loc["location_id"] for loc, _ in nearest[: rng.randint(1, 3)]]
            birth = today + timedelta(days=rng.randint(-330, 150))
            # A few families have no e-mail address: the loket serves them at the desk.
            email = f"gezin{rng.randint(1000, 9999)}@example.be" if rng.random() > 0.05 else None
            result.append({
                "child": {"first_name": rng.choice(FIRST_NAMES),
                          "last_name": rng.choice(LAST_NAMES), "birth_date": birth.isoformat()},
                "parent": {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                           "email": email, "phone": f"+32 470 {rng.randint(100000, 999999)}",
                           "postcode": home.postcode},
                "municipality_nis": municipality.nis_code,
                "desired_start_date": (birth + timedelta(days=rng.randint(90, 300))).isoformat(),
                "day_parts": weekly_pattern(rng),
                "accepts_partial_fit": rng.random() < 0.3,
                "share_contact_with_organiser": rng.random() < 0.9,
                "preferred_location_ids": wanted,
                "priority": {"parents_working_or_training": rng.random() < 0.6,
                             "single_parent": rng.random() < 0.15,
                             "low_income": rng.random() < 0.1,
                             "foster_child": rng.random() < 0.02},
                # The family swears to its facts; a few ask for urgency (staff decide).
                "sworn_statement": True,
                **({"urgency_reason": URGENCY_REASONS[len(result) % len(URGENCY_REASONS)]}
                   if rng.random() < 0.05 else {}),
            })
    return result


URGENCY_REASONS = [
    "Moeder start binnen zes weken met een nieuwe job na een lange werkloosheid.",
    "Vader is alleen met de kinderen na een ziekenhuisopname van de moeder.",
    "Het gezin verhuisde na een brand; de grootouders kunnen niet meer opvangen.",
    "Doorverwezen door het OCMW: opvang is nodig om de opleiding te kunnen volgen.",
]
FIRST_THREE = ("low_income", "low_parental_education", "parents_without_work")
LAST_TWO = ("poor_housing", "health_problems")


def assessments(rng: random.Random, requests: list[dict[str, Any]]
                ) -> list[tuple[int, dict[str, Any]]]:
    """What loket staff decide after registration, by request index: every family that
    asked for urgency is assessed (most granted, every third refused), and some
    families are judged vulnerable (2 or 3 characteristics, one of the first three).
    A separate random stream, so the requests themselves stay as they were."""
    result: list[tuple[int, dict[str, Any]]] = []
    for index, body in enumerate(requests):
        vulnerable = rng.random() < 0.08
        asked = "urgency_reason" in body
        if not (vulnerable or asked):
            continue
        met: set[str] = set()
        if vulnerable:
            first = rng.choice(FIRST_THREE)
            others = [name for name in FIRST_THREE + LAST_TWO if name != first]
            met = {first, *rng.sample(others, rng.choice([1, 2]))}
        assessment: dict[str, Any] = {
            "vulnerability": {name: name in met for name in FIRST_THREE + LAST_TWO},
            "urgency": None}
        if asked:
            refused = len(result) % 3 == 2
            assessment["urgency"] = {
                "decision": "refused" if refused else "granted",
                "reason": "Geen dringende nood: de startdatum laat tijd om te zoeken."
                if refused else "Nagegaan aan de balie; bevestigd door de sociale dienst."}
        result.append((index, assessment))
    return result


def free_places(rng: random.Random, chosen: list[dict[str, Any]], today: date,
                total: int = 45) -> list[tuple[str, dict[str, Any]]]:
    """Places organisers announce over the next months: most full-week, some part-time."""
    result = []
    for _ in range(total):
        location = rng.choice(chosen)
        available = today + timedelta(days=rng.randint(30, 300))
        day_parts = FULL_WEEK if rng.random() < 0.7 else weekly_pattern(rng)
        result.append((location["location_id"], {"available_from": available.isoformat(),
                                                  "count": 1, "day_parts": day_parts}))
    return result


def enrolments(rng: random.Random, location: dict[str, Any], keep_free: int,
               today: date) -> list[dict[str, Any]]:
    """The children a location already cares for at go-live, admitted outside the loket:
    enough part-timers that the licence is nearly used, leaving `keep_free` full-week
    places for what the organiser announces."""
    children = max(0, location["capacity"] - keep_free)
    return [{"enrolment_id": f"{location['location_id']}-k{number + 1:03d}",
             "start_date": (today - timedelta(days=rng.randint(30, 700))).isoformat(),
             "day_parts": weekly_pattern(rng), "priority_group": rng.random() < 0.2}
            for number in range(children)]
