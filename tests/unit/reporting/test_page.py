"""The Dutch page for people: rendered from autoescaped Jinja2 templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from starlette.requests import Request

from services.reporting.domain.facts import RequestFact
from services.reporting.domain.model import Municipality
from services.reporting.entrypoints import page
from tests.personas import REPORTING_USERS, signed_in
from tests.unit.reporting.events import (
    AREA,
    GEEL,
    LAAKDAL,
    NOW,
    freed,
    placed,
    proposed,
    submitted,
)
from tests.unit.reporting.harness import MUNICIPALITIES, InMemoryReporting

Client = httpx.AsyncClient
SCRIPT = "<script>alert(1)</script>"


async def client_of(reporting: InMemoryReporting) -> AsyncIterator[Client]:
    transport = httpx.ASGITransport(app=reporting.app)
    async with Client(transport=transport, base_url="http://reporting",
                    auth=signed_in(reporting.app, REPORTING_USERS)) as client:
        yield client


@pytest.fixture
async def client(reporting: InMemoryReporting) -> AsyncIterator[Client]:
    async for client in client_of(reporting):
        yield client


async def test_the_dutch_page(reporting: InMemoryReporting, client: Client) -> None:
    await reporting.apply(submitted("req-1", GEEL), submitted("req-2", GEEL),
                          freed("place-1", nis=LAAKDAL),
                          proposed("match-1", "req-1", "place-1", location_nis=LAAKDAL))
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nl">' in html and "Registratiecijfers Lokaal Loket Kinderopvang" in html
    for text in ("Geel", "Laakdal", "Open aanvragen", "Voorstellen", "Vrije plaatsen",
                 "Sluitingen", "Tekort", "Totaal", "Stand op", "Alle gemeenten",
                 "Tekort = open aanvragen min plaatsen die nog vrij zijn"):
        assert text in html
    assert "<script" not in html
    assert ".tekort { color: #9a3412" in html  # the stylesheet, inline
    assert '<td class="tekort">1</td>' in html  # Geel: one request still open, no place
    assert '<a href="/figures.csv">CSV</a>' in html


async def test_one_municipality_keeps_its_choice_in_the_form_and_the_links(
    reporting: InMemoryReporting, client: Client
) -> None:
    await reporting.apply(submitted("req-1", GEEL))
    html = (await client.get("/", params={"municipality_nis": GEEL})).text
    assert f'<option value="{GEEL}" selected>Geel</option>' in html
    assert f'href="/figures.csv?municipality_nis={GEEL}"' in html
    assert f'href="/figures?municipality_nis={GEEL}"' in html


async def test_errors_come_back_as_a_dutch_page(client: Client) -> None:
    unknown = await client.get("/", params={"municipality_nis": "99999"})
    assert unknown.status_code == 422 and "Onbekende gemeente" in unknown.text
    assert unknown.headers["content-type"].startswith("text/html")
    assert '<select id="gemeente"' in unknown.text  # and the chooser to try again
    malformed = await client.get("/", params={"municipality_nis": "abc"})
    assert malformed.status_code == 422 and "vijf cijfers" in malformed.text
    assert (await client.get("/", params={"municipality_nis": ""})).status_code == 200


async def test_an_empty_page_says_there_are_no_figures_yet(client: Client) -> None:
    assert "Nog geen cijfers" in (await client.get("/")).text


async def test_text_on_the_page_is_escaped() -> None:
    # A name from the reference file or an unknown code among the facts never becomes markup.
    hostile = {**MUNICIPALITIES, "99998": Municipality("99998", f"Gemeente {SCRIPT}")}
    reporting = InMemoryReporting(municipalities=hostile)
    await reporting.apply(submitted("req-1", "99998"))
    unchecked = RequestFact.model_construct(  # past the contract's NIS pattern, as if stored
        service_area=AREA, request_id="req-2", municipality_nis=SCRIPT, urgency="normal",
        replaces_request_id=None, submitted_at=NOW)
    await reporting.uow.facts.add(unchecked)
    async for client in client_of(reporting):
        html = (await client.get("/")).text
    assert SCRIPT not in html
    assert "Gemeente &lt;script&gt;alert(1)&lt;/script&gt;</option>" in html  # the chooser
    assert "Gemeente &lt;script&gt;alert(1)&lt;/script&gt;<span" in html  # the table
    assert '<span class="nis">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in html


def test_a_problem_page_escapes_its_message() -> None:
    browser = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                       "headers": [], "session": {}})
    problem = bytes(page.render_problem(browser, f"Onbekende gemeente: NIS-code {SCRIPT}.",
                                        MUNICIPALITIES).body).decode()
    assert SCRIPT not in problem
    assert "NIS-code &lt;script&gt;alert(1)&lt;/script&gt;." in problem


async def test_the_page_shows_outcomes_occupancy_and_waiting_times(
    reporting: InMemoryReporting, client: Client
) -> None:
    await reporting.apply(submitted("req-1", GEEL, days_ago=12.5),
                          proposed("match-1", "req-1", "place-1"),
                          placed("match-1", "req-1", "place-1", start=date(2020, 1, 6)))
    html = (await client.get("/")).text
    for text in ("Geplaatst", "Geweigerd door gezin",
                 "Geweigerd door organisator: leeftijdsgroep vol",
                 "Geweigerd door organisator: dagdelen niet beschikbaar",
                 "Geweigerd door organisator: zorgnood", "Geweigerd door organisator: andere",
                 "Vervallen aanbiedingen", "Vervallen aanvragen", "Beëindigde inschrijvingen",
                 "Bezetting per dagdeel", "Erkende plaatsen", "ma vm", "vr nm",
                 "Mediaan dagen tot eerste aanbod", "P90 dagen tot plaatsing"):
        assert text in html, text
    assert "<td class=\"\">12,5</td>" in html  # days with a Dutch decimal comma
    assert "<td class=\"zero\">–</td>" in html  # no waiting time where nobody waited
