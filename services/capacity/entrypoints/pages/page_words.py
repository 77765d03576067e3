"""What capacity's pages say: Dutch words for the codes the domain keeps, and the small
steps from a posted form to a request body (dates as typed, empty fields left out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from contracts.schedule import DAY_PARTS
from loketkit.calendar import brussels_date
from loketkit.dutch import DAYS, HALVES
from loketkit.web.forms import DUTCH, field_errors, iso_date, values_of
from services.capacity.entrypoints.deps import CapacityContext
from services.capacity.entrypoints.pages import PAGES

DAY_PART_NAMES = {part: f"{DAYS[part[:3]]} {HALVES[part[4:]]}" for part in DAY_PARTS}
DAY_PART_SHORT = {part: f"{DAYS[part[:3]][:2]} {'vm' if part.endswith('am') else 'nm'}"
                  for part in DAY_PARTS}
DAY_PART_OPTIONS = list(DAY_PART_NAMES.items())

SUBSIDY = {"basic": "basissubsidie", "income_related": "inkomenstarief",
           "plus": "plussubsidie", "free_price": "vrije prijs"}
OFFER_STATUS = {
    "proposed": "Voorgesteld: het gezin beslist nog",
    "accepted": "Aanvaard door het gezin: wacht op jouw antwoord",
    "confirmed": "Bevestigd: het kind is ingeschreven",
    "refused": "Geweigerd door jou",
    "ended": "Afgelopen",
}
# The same offers as the loket's people read them (the organiser answers, not they).
OFFER_STATUS_LOKET = {
    "proposed": "voorgesteld, het gezin beslist nog",
    "accepted": "aanvaard door het gezin, de organisator beslist nog",
}
REFUSAL_REASONS = {
    "age_group_full": "De leeftijdsgroep is volzet",
    "day_parts_not_available": "De gevraagde dagdelen zijn niet vrij",
    "care_need_not_met": "We kunnen de nodige zorg niet bieden",
    "other": "Een andere reden",
}
# Why an offer ended: the family's answer, a deadline, or matching's cancellation.
ENDED_REASONS = {
    **REFUSAL_REASONS,
    "declined": "het gezin weigerde",
    "expired": "het gezin antwoordde niet op tijd",
    "place_withdrawn": "de plaats werd ingetrokken",
    "location_closed": "de locatie sluit",
    "request_withdrawn": "de aanvraag werd ingetrokken",
    "request_expired": "de aanvraag verviel",
    "request_updated": "de aanvraag werd gewijzigd",
    "placed_elsewhere": "het kind kreeg elders een plaats",
    "accepted_other_offer": "het gezin koos een ander aanbod",
}
CLOSURE_REASONS = {
    "licence_suspended": "Vergunning geschorst",
    "licence_revoked": "Vergunning opgeheven",
    "bankruptcy": "Faillissement",
    "force_majeure": "Overmacht",
}
CLOSURE_STATUS = {"registered": "Vertrouwelijk", "released": "Vrijgegeven"}

WORDS = {
    "day_part": DAY_PART_NAMES, "day_part_short": DAY_PART_SHORT, "subsidy": SUBSIDY,
    "offer_status": OFFER_STATUS, "offer_status_loket": OFFER_STATUS_LOKET,
    "ended_reason": ENDED_REASONS,
    "refusal_reason": REFUSAL_REASONS, "closure_reason": CLOSURE_REASONS,
    "closure_status": CLOSURE_STATUS,
}

def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page of capacity's, with the Dutch words at hand. A form's errors and typed
    values go as `form_errors` / `form_values` (the layout's own `errors` / `values`
    are its defaults)."""
    context.setdefault("form_errors", {})
    context.setdefault("form_values", {})
    return PAGES.render(request, template, status_code, words=WORDS, **context)


def today(ctx: CapacityContext) -> date:
    """Today in Brussels, by the service's clock."""
    return brussels_date(ctx.clock())


def body_of(values: Mapping[str, Any], fields: Iterable[str], dates: Iterable[str] = ()
            ) -> dict[str, Any]:
    """The request body a form stands for: only the body's own fields, an empty field
    left out (so the body's default applies, or 'missing' is said), dates as ISO."""
    wanted, as_date = set(fields), set(dates)
    body = {}
    for name, value in values.items():
        if name not in wanted or value == "":
            continue
        body[name] = iso_date(value) if name in as_date else value
    return body


Body = TypeVar("Body", bound=BaseModel)

MISSING = {
    "available_from": "Vul de dag in waarop de plaats vrij komt.",
    "start_date": "Vul de startdatum in.",
    "effective_from": "Vul de dag in vanaf wanneer de locatie sluit.",
}
OWN_WORDS = {"day_parts": "Kies minstens één dagdeel.", "reason": "Kies een reden."}


@dataclass
class Posted(Generic[Body]):
    """A form as typed, and what it stands for: the body, or what is wrong with it."""

    values: dict[str, Any]
    body: Body | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse(form: FormData, model: type[Body], lists: tuple[str, ...] = (),
          dates: tuple[str, ...] = (), values: dict[str, Any] | None = None) -> Posted[Body]:
    typed = values_of(form, lists) if values is None else values
    try:
        body = model.model_validate(body_of(typed, model.model_fields, dates))
    except ValidationError as error:
        errors = field_errors(error, messages=OWN_WORDS)
        for name, message in errors.items():
            if message == DUTCH["missing"] and name in MISSING:
                errors[name] = MISSING[name]
        return Posted(typed, errors=errors)
    return Posted(typed, body)
