"""The request form, both ways: what a family typed becomes the API's own bodies
(`RequestCreate`, `RequestChange`), and what went wrong comes back as a Dutch message
next to its field. Also the lists the form offers: the area's locations (by name, or
nearest first with the distance from a postcode), the municipalities, the day-parts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from loketkit.dutch import DAYS, HALVES
from loketkit.errors import DomainError
from loketkit.web.forms import field_errors, iso_date
from services.intake.domain.locations import MAX_CHOICES, Coordinates, Location, distance_km
from services.intake.domain.model import Priority, Request

Values = dict[str, Any]
Errors = dict[str, str]
Options = list[tuple[str, str]]

# Ranked choices: this many selects on a new request (a change shows all the family's).
CHOICE_SLOTS = 5
LISTS = ("day_parts",)
POSTCODE = re.compile(r"^\d{4}$")
# The loket's municipalities as families know them (NIS code -> name); another code
# shows as itself.
MUNICIPALITY_NAMES = {"13008": "Geel", "13053": "Laakdal", "13021": "Meerhout"}
PRIORITY_FLAGS = ("parents_working_or_training", "works_at_least_four_fifths",
                  "single_parent", "low_income", "foster_child")
SIBLING = "priority_sibling_location"

# Form field -> its own wording, whatever pydantic found wrong with it.
MESSAGES = {
    "child_first_name": "Vul de voornaam van het kind in.",
    "child_last_name": "Vul de familienaam van het kind in.",
    "child_birth_date": "Geef de geboortedatum (of de verwachte geboortedatum) als dd/mm/jjjj.",
    "parent_name": "Vul de naam van de ouder in.",
    "parent_phone": "Geef een telefoonnummer met cijfers, zoals 0470 12 34 56.",
    "parent_postcode": "Geef de postcode: 4 cijfers, zoals 2440.",
    "municipality_nis": "Kies de gemeente waar het gezin woont.",
    "desired_start_date": "Geef de datum waarop de opvang moet starten, als dd/mm/jjjj.",
    "day_parts": "Kies minstens één dagdeel.",
    "max_distance_km": "Geef een afstand tussen 0,5 en 50 km, of laat dit leeg.",
    "keuze_1": "Kies de opvang uit de lijst.",
    SIBLING: "Kies de opvang uit de lijst.",
}
SWORN = ("Je gaf gegevens op voor voorrang. Bevestig op erewoord dat ze kloppen, of vink ze "
         "uit.")
# The schema's dotted names whose form field is named otherwise.
FIELDS = {"preferred_location_ids": "keuze_1", "priority.sibling_location_ids": SIBLING}


def slot(rank: int) -> str:
    return f"keuze_{rank}"


def day_grid() -> list[tuple[str, list[tuple[str, str]]]]:
    """(day, [(day-part, "maandag voormiddag"), ...]) for the form's grid, Monday first."""
    return [(name, [(f"{day}_{half}", f"{name} {word}") for half, word in HALVES.items()])
            for day, name in DAYS.items()]


def municipality_options(codes: Iterable[str]) -> Options:
    return sorted(((code, MUNICIPALITY_NAMES.get(code, f"gemeente {code}")) for code in codes),
                  key=lambda option: option[1])


def kilometres(km: float) -> str:
    return f"{km:.1f}".replace(".", ",") + " km"


def location_options(locations: Sequence[Location], postcode: str | None,
                     coordinates: Coordinates) -> Options:
    """The locations by name; with a known `postcode`, nearest first with the distance
    in the label (those without coordinates last, by name)."""
    by_name = sorted(locations, key=lambda location: (location.name, location.location_id))
    origin = coordinates.get(postcode) if postcode else None
    if origin is None:
        return [(loc.location_id, f"{loc.name} ({loc.postcode})") for loc in by_name]
    measured = [(distance_km(origin, here) if (here := coordinates.get(loc.postcode)) else None,
                 loc) for loc in by_name]
    measured.sort(key=lambda pair: (pair[0] is None, pair[0] or 0.0))
    return [(loc.location_id, f"{loc.name} ({loc.postcode})"
             + (f" – {kilometres(km)}" if km is not None else ""))
            for km, loc in measured]


def search_problem(postcode: str, coordinates: Coordinates) -> str | None:
    """Why the locations cannot be ordered from this postcode, if they cannot."""
    if not POSTCODE.fullmatch(postcode):
        return "Vul eerst je postcode in (4 cijfers) om de opvang dichtbij te zoeken."
    if postcode not in coordinates:
        return "Deze postcode kennen we niet. Kies de opvang zelf uit de lijst."
    return None


# --- from the form to the API's bodies ----------------------------------------------------


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    return value if isinstance(value, str) and value else None


def _date(values: Mapping[str, Any], name: str) -> str | None:
    """The browser's yyyy-mm-dd, or dd/mm/yyyy as people type it without a date picker."""
    value = _text(values, name)
    return iso_date(value) if value else value


def _number(values: Mapping[str, Any], name: str) -> str | None:
    value = _text(values, name)
    return value.replace(",", ".") if value else None


def _checked(values: Mapping[str, Any], name: str) -> bool:
    return bool(values.get(name))


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Without the fields left empty, so a required one is reported as missing."""
    return {name: value for name, value in fields.items() if value is not None}


def chosen(values: Mapping[str, Any], slots: int = MAX_CHOICES) -> list[str]:
    """The ranked choices as picked, empty selects left out."""
    return [value for rank in range(1, slots + 1) if (value := _text(values, slot(rank)))]


def repeated_choices(values: Mapping[str, Any]) -> Errors:
    seen: set[str] = set()
    errors: Errors = {}
    for rank in range(1, MAX_CHOICES + 1):
        value = _text(values, slot(rank))
        if value and value in seen:
            errors[slot(rank)] = "Deze opvang koos je al hoger. Kies een andere of laat leeg."
        seen.add(value or "")
    return errors


def unsworn(values: Mapping[str, Any]) -> Errors:
    """The sworn statement the domain asks for declared priority facts, checked with the
    rest of the form so the family sees every problem at once."""
    sibling = _text(values, SIBLING)
    declared = Priority(**{flag: _checked(values, f"priority_{flag}") for flag in PRIORITY_FLAGS},
                        sibling_location_ids=(sibling,) if sibling else ())
    if declared.declares_any and not _checked(values, "sworn_statement"):
        return {"sworn_statement": SWORN}
    return {}


def registration_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """A dict `RequestCreate` validates, from the form's fields."""
    sibling = _text(values, SIBLING)
    return _present({
        "child": _present({"first_name": _text(values, "child_first_name"),
                           "last_name": _text(values, "child_last_name"),
                           "birth_date": _date(values, "child_birth_date")}),
        "parent": _present({"name": _text(values, "parent_name"),
                            "email": _text(values, "parent_email"),
                            "phone": _text(values, "parent_phone"),
                            "street": _text(values, "parent_street"),
                            "postcode": _text(values, "parent_postcode")}),
        "municipality_nis": _text(values, "municipality_nis"),
        "desired_start_date": _date(values, "desired_start_date"),
        "day_parts": list(values.get("day_parts") or []),
        "preferred_location_ids": chosen(values),
        "max_distance_km": _number(values, "max_distance_km"),
        "priority": {**{flag: _checked(values, f"priority_{flag}") for flag in PRIORITY_FLAGS},
                     "sibling_location_ids": [sibling] if sibling else []},
        "sworn_statement": _checked(values, "sworn_statement"),
        "urgency_reason": _text(values, "urgency_reason"),
        "accepts_partial_fit": _checked(values, "accepts_partial_fit"),
        "share_contact_with_organiser": _checked(values, "share_contact_with_organiser"),
    })


def change_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """A dict `RequestChange` validates: the whole form, so no distance means none."""
    return {"desired_start_date": _date(values, "desired_start_date"),
            "day_parts": list(values.get("day_parts") or []),
            "accepts_partial_fit": _checked(values, "accepts_partial_fit"),
            "preferred_location_ids": chosen(values),
            "max_distance_km": _number(values, "max_distance_km")}


def change_values(request: Request) -> Values:
    """The change form filled in with the request as it stands."""
    values: Values = {
        "desired_start_date": request.desired_start_date.isoformat(),
        "day_parts": list(request.day_parts),
        "accepts_partial_fit": "ja" if request.accepts_partial_fit else "",
        "max_distance_km": "" if request.max_distance_km is None
        else f"{request.max_distance_km:g}".replace(".", ","),
    }
    for rank, location_id in enumerate(request.chosen_location_ids, start=1):
        values[slot(rank)] = location_id
    return values


# --- what went wrong, in Dutch, next to its field -------------------------------------------


def invalid_fields(error: ValidationError) -> Errors:
    return field_errors(error, fields=FIELDS, messages=MESSAGES)


def domain_problem(error: DomainError) -> tuple[str, str]:
    """(form field, Dutch message) for a rule the handlers enforce."""
    field, message = error.field, error.message
    if field == "preferred_location_ids":
        if message.startswith("unknown"):
            return slot(1), ("Een opvang die je koos bestaat niet meer of is gesloten. "
                             "Kies een andere.")
        return slot(1), "Kies minstens één opvang, of vul een afstand in."
    if field == "desired_start_date":
        if "birth date" in message:
            return field, "De startdatum mag niet vóór de geboortedatum liggen."
        return field, ("Het kind is op die datum al 3 jaar of ouder. Deze opvang is voor "
                       "kinderen tot 3 jaar.")
    known = {
        "municipality_nis": "Dit loket werkt niet voor deze gemeente.",
        "max_distance_km": ("Er is geen open opvang binnen deze afstand van je postcode. "
                            "Kies een grotere afstand of kies zelf een opvang."),
        "day_parts": MESSAGES["day_parts"],
        "sworn_statement": SWORN,
    }
    return field, known.get(field, "Dit klopt niet.")


def choice_slots(values: Mapping[str, Any], at_least: int = CHOICE_SLOTS) -> int:
    """Enough selects for what the family chose, one empty to add more (up to ten)."""
    return min(MAX_CHOICES, max(at_least, len(chosen(values)) + 1))

