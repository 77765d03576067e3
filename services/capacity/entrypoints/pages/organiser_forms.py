"""The organiser's forms: announce free places, confirm or refuse an offer. Each posted
form becomes the API's own body (the same schema, the same limits), or Dutch messages
per field; a rule of the domain that refuses the input gets its own Dutch sentence."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from contracts.schedule import DAY_PARTS
from loketkit.errors import DomainError
from loketkit.web.forms import values_of
from services.capacity.domain.model import AVAILABLE_FROM_GRACE, Location, Offer
from services.capacity.entrypoints.pages.page_words import Posted, parse
from services.capacity.entrypoints.schemas import ConfirmCreate, FreePlacesCreate, RefuseCreate

# A fresh announcement: the whole week, one place.
NEW_PLACE: dict[str, Any] = {"day_parts": list(DAY_PARTS), "count": "1"}


def announce_form(form: FormData) -> Posted[FreePlacesCreate]:
    return parse(form, FreePlacesCreate, lists=("day_parts",), dates=("available_from",))


def confirm_form(form: FormData) -> Posted[ConfirmCreate]:
    typed = values_of(form, ("day_parts",))
    if not typed["day_parts"]:
        typed.pop("day_parts")  # none ticked: the day-parts the family asked for
    return parse(form, ConfirmCreate, dates=("start_date",), values=typed)


def refuse_form(form: FormData) -> Posted[RefuseCreate]:
    return parse(form, RefuseCreate)


def confirm_values(offer: Offer) -> dict[str, Any]:
    """The confirmation as the offer proposes it: its start date, the asked day-parts."""
    start = offer.start_date.isoformat() if offer.start_date else ""
    return {"start_date": start, "day_parts": list(offer.default_day_parts())}


def announce_problem(error: DomainError, location: Location,
                     body: FreePlacesCreate) -> dict[str, str] | None:
    """The domain's refusal of an announcement, next to its field (None: not a field
    of the form; the page says what went wrong instead)."""
    low = location.min_age_months if body.min_age_months is None else body.min_age_months
    high = location.max_age_months if body.max_age_months is None else body.max_age_months
    words = {
        "available_from": f"Die dag ligt meer dan {AVAILABLE_FROM_GRACE.days} dagen in het "
                          "verleden. Geef de dag waarop de plaats vrij komt.",
        "min_age_months": "De jongste leeftijd mag niet hoger zijn dan de oudste."
        if low > high else
        f"Je locatie neemt kinderen vanaf {location.min_age_months} maanden.",
        "max_age_months": f"Je locatie neemt kinderen tot {location.max_age_months} maanden.",
        "day_parts": "Op minstens één van deze dagdelen is er geen plaats meer binnen je "
                     "vergunning. Kijk naar de bezetting hierboven.",
        "count": "Zoveel plaatsen passen niet binnen je vergunning. Meld er minder.",
    }
    return {error.field: words[error.field]} if error.field in words else None


def confirm_problem(error: DomainError) -> dict[str, str] | None:
    if error.field == "day_parts":
        return {"day_parts": "Kies dagdelen die deze plaats aanbiedt."}
    return None
