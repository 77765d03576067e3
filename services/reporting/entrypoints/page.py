"""The figures as a small Dutch HTML page, rendered on the server (no JavaScript)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.reporting.domain.model import Figures, Municipality
from services.reporting.domain.report import Report

TITLE = "Registratiecijfers Lokaal Loket Kinderopvang"
STYLE = (Path(__file__).parent / "page.css").read_text(encoding="utf-8")
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
NOTE = (
    "Aanvragen tellen bij de woongemeente van het gezin; voorstellen, vrije plaatsen en "
    "sluitingen bij de gemeente van de opvanglocatie. Een aanvraag is open tot er een voorstel "
    "is of ze wordt ingetrokken; een vrije plaats is nog vrij tot ze wordt voorgesteld of de "
    "locatie sluit. Tekort = open aanvragen min plaatsen die nog vrij zijn, nooit negatief; "
    "het totaal telt de tekorten per gemeente op."
)


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Dutch thousands separator


def local_time(moment: datetime) -> str:
    try:
        local, zone = moment.astimezone(ZoneInfo("Europe/Brussels")), ""
    except ZoneInfoNotFoundError:  # an image without tz data: say it is UTC
        local, zone = moment, " (UTC)"
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} om {local:%H:%M}{zone}"


def figure_cells(figures: Figures) -> str:
    values = asdict(figures)
    cells = []
    for name, _ in COLUMNS:
        css = "tekort" if name == "shortage" and values[name] > 0 else (
            "zero" if values[name] == 0 else "")
        cells.append(f'<td class="{css}">{number(values[name])}</td>')
    return "".join(cells)


def cards(totals: Figures) -> str:
    values = asdict(totals)
    return "".join(
        f'<div class="card{" short" if name == "shortage" and values[name] else ""}">'
        f'<div class="label">{label}</div><div class="value">{number(values[name])}</div></div>'
        for name, label in COLUMNS
    )


def chooser(reference: Mapping[str, Municipality], selected: str | None) -> str:
    options = ['<option value="">Alle gemeenten</option>'] + [
        f'<option value="{place.nis}"{" selected" if place.nis == selected else ""}>'
        f"{escape(place.name)}</option>"
        for place in sorted(reference.values(), key=lambda place: place.name)
    ]
    return (
        '<form method="get" action="/"><label for="gemeente">Gemeente</label>'
        f'<select id="gemeente" name="municipality_nis">{"".join(options)}</select>'
        '<button type="submit">Toon</button></form>'
    )


def figures_table(report: Report) -> str:
    if not report.municipalities:
        return '<p class="empty">Nog geen cijfers: er zijn nog geen gebeurtenissen verwerkt.</p>'
    head = "".join(f'<th scope="col">{label}</th>' for _, label in COLUMNS)
    rows = "".join(
        f'<tr><th scope="row">{escape(row.municipality.name)}'
        f'<span class="nis">{escape(row.municipality.nis)}</span></th>'
        f"{figure_cells(row.figures)}</tr>"
        for row in report.municipalities
    )
    return (
        f'<div class="scroll"><table><thead><tr><th scope="col">Gemeente</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody>"
        f"<tfoot><tr><td>Totaal</td>{figure_cells(report.totals)}</tr></tfoot></table></div>"
    )


def render(report: Report, reference: Mapping[str, Municipality], selected: str | None) -> str:
    query = f"?{urlencode({'municipality_nis': selected})}" if selected else ""
    body = (
        f"<h1>{TITLE}</h1>"
        f'<p class="stand">Stand op {local_time(report.generated_at)}</p>'
        f'<section class="cards" aria-label="Totalen">{cards(report.totals)}</section>'
        f"{chooser(reference, selected)}"
        f"<h2>Per gemeente</h2>{figures_table(report)}"
        f'<p class="note">{NOTE}</p>'
        f'<p class="note">Downloaden: <a href="/figures.csv{query}">CSV</a> · '
        f'<a href="/figures{query}">JSON</a></p>'
    )
    return document(body)


def render_problem(message: str, reference: Mapping[str, Municipality]) -> str:
    return document(f"<h1>{TITLE}</h1><p class=\"empty\">{escape(message)}</p>"
                    f"{chooser(reference, None)}")


def document(body: str) -> str:
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{TITLE}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
