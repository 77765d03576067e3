"""From a posted form to a command, and from what went wrong back to the form: each
message next to its field, in Dutch, with everything typed shown again."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from loketkit.web.session import CSRF_FIELD

# pydantic's error types, as a family reads them.
DUTCH = {
    "missing": "Vul dit in.",
    "string_too_short": "Vul dit in.",
    "string_too_long": "Dit is te lang.",
    "string_pattern_mismatch": "Dit heeft niet de juiste vorm.",
    "date_parsing": "Geef een datum als dd/mm/jjjj.",
    "date_from_datetime_parsing": "Geef een datum als dd/mm/jjjj.",
    "date_type": "Geef een datum als dd/mm/jjjj.",
    "int_parsing": "Geef een getal.",
    "float_parsing": "Geef een getal.",
    "greater_than": "Dit getal is te klein.",
    "greater_than_equal": "Dit getal is te klein.",
    "less_than": "Dit getal is te groot.",
    "less_than_equal": "Dit getal is te groot.",
    "too_short": "Kies er minstens één.",
    "too_long": "Dat zijn er te veel.",
    "literal_error": "Kies een van de mogelijkheden.",
    "enum": "Kies een van de mogelijkheden.",
    "bool_parsing": "Kies ja of nee.",
    "value_error": "Dit klopt niet.",
}
EMAIL = "Geef een geldig e-mailadres, zoals naam@voorbeeld.be."
DUTCH_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def iso_date(typed: str) -> str:
    """A date as a person types it (dd/mm/jjjj) in the ISO form a date field sends; any
    other text as it is, for the schema to judge."""
    found = DUTCH_DATE.fullmatch(typed)
    if found is None:
        return typed
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def values_of(form: FormData, lists: Iterable[str] = ()) -> dict[str, Any]:
    """The form as typed: one string per field, a list for the fields in `lists`
    (checkbox groups, ranked choices); the CSRF token left out."""
    many = set(lists)
    found: dict[str, Any] = {name: form.getlist(name) for name in many}
    for name, value in form.multi_items():
        if name != CSRF_FIELD and name not in many and isinstance(value, str):
            found[name] = value.strip()
    return found


def dutch_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if "email" in str(error.get("msg", "")).lower():
        return EMAIL
    return DUTCH.get(kind, "Dit klopt niet.")


def field_errors(error: ValidationError, fields: Mapping[str, str] | None = None,
                 messages: Mapping[str, str] | None = None) -> dict[str, str]:
    """field -> Dutch message for each field at fault. `fields` maps the model's dotted
    location ("child.birth_date") to the form's field name; `messages` gives a field its
    own wording instead of the generic one."""
    found: dict[str, str] = {}
    for item in error.errors():
        dotted = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
        name = (fields or {}).get(dotted, dotted.replace(".", "_") or "formulier")
        found.setdefault(name, (messages or {}).get(name) or dutch_message(item))
    return found
