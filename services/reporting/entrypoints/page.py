"""The figures as a small Dutch HTML page, rendered on the server (no JavaScript)
from the Jinja2 templates in services/reporting/templates, in the shared layout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse

from contracts.schedule import DAY_PARTS
from loketkit.web import Pages
from services.reporting.domain.model import Durations, Figures, Municipality
from services.reporting.domain.report import Report

TEMPLATES = Path(__file__).parents[1] / "templates"
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")
# In the order a reader scans them: demand, answers, supply, and the gap.
COLUMNS = (
    ("requests_submitted", "Aanvragen"),
    ("requests_open", "Open aanvragen"),
    ("proposals", "Voorstellen"),
    ("free_places", "Vrije plaatsen"),
    ("free_places_open", "Nog vrij"),
    ("closures", "Sluitingen"),
    ("shortage", "Tekort"),
)
OUTCOMES = (
    ("placed", "Geplaatst"),
    ("placed_family", "Geplaatst (woongemeente gezin)"),
    ("offers_accepted", "Aanvaard door gezin"),
    ("declined_by_family", "Geweigerd door gezin"),
    ("refused_age_group_full", "Geweigerd door organisator: leeftijdsgroep vol"),
    ("refused_day_parts_not_available", "Geweigerd door organisator: dagdelen niet beschikbaar"),
    ("refused_care_need_not_met", "Geweigerd door organisator: zorgnood"),
    ("refused_other", "Geweigerd door organisator: andere"),
    ("offers_expired", "Vervallen aanbiedingen"),
    ("offers_cancelled", "Geannuleerde aanbiedingen"),
    ("requests_expired", "Vervallen aanvragen"),
    ("enrolments_ended", "Beëindigde inschrijvingen"),
)
DAY_NAMES = {"mon": "ma", "tue": "di", "wed": "wo", "thu": "do", "fri": "vr"}
OCCUPANCY = (
    ("licensed_places", "Erkende plaatsen"),
    *((f"enrolled_{part}", f"{DAY_NAMES[part[:3]]} {'vm' if part.endswith('am') else 'nm'}")
      for part in DAY_PARTS),
)
WAITING = (
    ("median_days_to_first_offer", "Mediaan dagen tot eerste aanbod"),
    ("p90_days_to_first_offer", "P90 dagen tot eerste aanbod"),
    ("median_days_to_placement", "Mediaan dagen tot plaatsing"),
    ("p90_days_to_placement", "P90 dagen tot plaatsing"),
)
# The tables of the page, each with a Dutch heading and its columns.
SECTIONS = (
    ("Aanvragen en vrije plaatsen", COLUMNS),
    ("Aanbiedingen en plaatsingen", OUTCOMES),
    ("Bezetting per dagdeel", OCCUPANCY),
    ("Wachttijden (woongemeente gezin)", WAITING),
)
CARDS = (*COLUMNS[:2], ("placed", "Geplaatst"), *COLUMNS[2:])


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{value:,}".replace(",", ".")  # Dutch thousands separator


def values(figures: Figures, durations: Durations) -> dict[str, int | float | None]:
    """One row of the page: every figure and waiting time by its name."""
    return {**asdict(figures), **asdict(durations)}


def local_time(moment: datetime) -> str:
    try:
        local, zone = moment.astimezone(ZoneInfo("Europe/Brussels")), ""
    except ZoneInfoNotFoundError:  # an image without tz data: say it is UTC
        local, zone = moment, " (UTC)"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} om {local:%H:%M}{zone}"


PAGES = Pages(TEMPLATES, "Registratiecijfers", "reporting")
environment = PAGES.environment
environment.filters["number"] = number
environment.filters["local_time"] = local_time
environment.globals["columns"] = COLUMNS
environment.globals["sections"] = SECTIONS
environment.globals["cards"] = CARDS
environment.globals["row_values"] = values


def choices(reference: Mapping[str, Municipality]) -> list[Municipality]:
    return sorted(reference.values(), key=lambda place: place.name)


def render(request: Request, report: Report, reference: Mapping[str, Municipality],
           selected: str | None) -> HTMLResponse:
    return PAGES.render(request, "figures.html", report=report,
                        municipalities=choices(reference), selected=selected)


def render_problem(request: Request, message: str, reference: Mapping[str, Municipality]
                   ) -> HTMLResponse:
    return PAGES.render(request, "problem.html", status_code=422, message=message,
                        municipalities=choices(reference), selected=None)
