"""The figures as a small Dutch HTML page, rendered on the server (no JavaScript)
from the Jinja2 templates in services/reporting/templates (autoescaped)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.reporting.domain.model import Municipality
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


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Dutch thousands separator


def local_time(moment: datetime) -> str:
    try:
        local, zone = moment.astimezone(ZoneInfo("Europe/Brussels")), ""
    except ZoneInfoNotFoundError:  # an image without tz data: say it is UTC
        local, zone = moment, " (UTC)"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} om {local:%H:%M}{zone}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a misspelt name is an error, not an empty cell
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["number"] = number
environment.filters["local_time"] = local_time
environment.globals["columns"] = COLUMNS


def choices(reference: Mapping[str, Municipality]) -> list[Municipality]:
    return sorted(reference.values(), key=lambda place: place.name)


def render(report: Report, reference: Mapping[str, Municipality], selected: str | None) -> str:
    return environment.get_template("figures.html").render(
        report=report, municipalities=choices(reference), selected=selected)


def render_problem(message: str, reference: Mapping[str, Municipality]) -> str:
    return environment.get_template("problem.html").render(
        message=message, municipalities=choices(reference), selected=None)
