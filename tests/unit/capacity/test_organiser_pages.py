"""The organiser's pages: its own locations only, free places announced and withdrawn
through forms (errors in Dutch next to their field, typed values kept), offers
confirmed or refused; another organiser's location or offer is not found, and a form
posted in a browser session without its CSRF token is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import MatchRefused, PlaceFreed
from loketkit.testing import deliver
from loketkit.web.signin import ProviderEndpoints
from services.capacity.domain.model import OfferStatus, PlaceStatus
from tests.personas import CAPACITY_USERS, headers, signed_in, token
from tests.unit.capacity.conftest import NEXT_MONTH, acceptance, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

ZONNEKE = {"location_id": "loc-a", "name": "Het Zonneke", "municipality_nis": "13008",
           "postcode": "2440", "capacity": 10, "subsidy_tier": "plus"}
BOLLEBOOS = ZONNEKE | {"location_id": "loc-b", "name": "De Bolleboos"}
PAGE = "/organisator/locaties/loc-a"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def field_error(html: str, name: str) -> str:
    """The message shown right above the field `name` (empty when there is none)."""
    found = re.search(rf'<p class="field-error" id="fout-{name}">.*?</span>(.*?)</p>', html)
    return found.group(1) if found else ""


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """As conftest's, over https: the session cookie (and so the one-time notice after
    a form) is Secure, kept for https only."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://capacity",
                                 auth=signed_in(app, CAPACITY_USERS)) as client:
        yield client


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """loc-a of org-zonneke (the signed-in organiser) with three free places: one the
    family accepted (match-1), one proposed (match-2), one open; loc-b of another
    organiser."""
    assert (await client.post("/locations", json=ZONNEKE)).status_code == 201
    other = await client.post("/locations", json=BOLLEBOOS, headers=headers("other_organiser"))
    assert other.status_code == 201
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(NEXT_MONTH), "count": 3})
    accepted, proposed, open_place = freed.json()["place_ids"]
    first = proposal(match_id="match-1", place_id=accepted, request_id="req-1")
    await deliver(app.state.consumer, first)
    await deliver(app.state.consumer, acceptance(first))
    await deliver(app.state.consumer,
                  proposal(match_id="match-2", place_id=proposed, request_id="req-2"))
    return {"open_place": open_place}


async def test_the_overview_shows_only_the_organisers_own_locations(
    world: dict[str, str], client: httpx.AsyncClient
) -> None:
    page = await client.get("/organisator")
    assert page.status_code == 200
    assert "Het Zonneke" in page.text and "De Bolleboos" not in page.text
    assert page.text.count("<h1>") == 1
    assert "1 aanbod beantwoorden" in page.text  # match-1, accepted by the family
    assert 'href="/organisator/locaties/loc-a#aanbiedingen"' in page.text
    assert "10 kinderen tegelijk" in page.text
    other = await client.get("/organisator", headers=headers("other_organiser"))
    assert "De Bolleboos" in other.text and "Het Zonneke" not in other.text


async def test_a_free_place_announced_through_the_form_is_listed(
    world: dict[str, str], client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    day = NEXT_MONTH + timedelta(days=14)
    sent = await client.post(PAGE + "/vrije-plaatsen", data={
        "available_from": day.strftime("%d/%m/%Y"), "day_parts": ["mon_am", "mon_pm"],
        "count": "2", "min_age_months": "", "max_age_months": ""})
    assert sent.status_code == 303
    assert sent.headers["location"] == PAGE
    page = await client.get(PAGE)
    assert "Je 2 vrije plaatsen zijn gemeld" in page.text  # the one-time notice
    assert f"<th scope=\"row\">{day.strftime('%d/%m/%Y')}</th>" in page.text
    assert "maandag (hele dag)" in page.text
    freed = [e for e in uow.published_data()
             if isinstance(e, PlaceFreed) and e.available_from == day]
    assert [e.day_parts for e in freed] == [["mon_am", "mon_pm"]] * 2
    assert "gemeld" not in (await client.get(PAGE)).text.split("<h1>")[0]  # shown once


async def test_a_form_with_errors_comes_back_in_dutch_with_what_was_typed(
    world: dict[str, str], client: httpx.AsyncClient
) -> None:
    sent = await client.post(PAGE + "/vrije-plaatsen", data={
        "available_from": "", "min_age_months": "twee", "count": "7"})
    assert sent.status_code == 422
    html = sent.text
    assert field_error(html, "available_from") == "Vul de dag in waarop de plaats vrij komt."
    assert field_error(html, "day_parts") == "Kies minstens één dagdeel."
    assert field_error(html, "min_age_months") == "Geef een getal."
    assert 'class="error-summary"' in html and 'href="#veld-available_from"' in html
    assert 'name="min_age_months" type="number" value="twee"' in html
    assert 'name="count" type="number" value="7"' in html
    assert 'aria-invalid="true"' in html


async def test_a_rule_of_the_location_is_said_next_to_its_field(
    world: dict[str, str], client: httpx.AsyncClient
) -> None:
    too_old = await client.post(PAGE + "/vrije-plaatsen", data={
        "available_from": str(NEXT_MONTH), "day_parts": ["tue_am"], "max_age_months": "40"})
    assert too_old.status_code == 422
    assert field_error(too_old.text, "max_age_months") == (
        "Je locatie neemt kinderen tot 36 maanden.")
    assert 'value="40"' in too_old.text
    too_many = await client.post(PAGE + "/vrije-plaatsen", data={
        "available_from": str(NEXT_MONTH), "day_parts": ["tue_am"], "count": "9"})
    assert too_many.status_code == 409  # 3 places already announced of a licence of 10
    assert field_error(too_many.text, "count").startswith("Zoveel plaatsen passen niet")


async def test_an_open_place_is_withdrawn(
    world: dict[str, str], client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    place = world["open_place"]
    page = (await client.get(PAGE)).text
    assert page.count("/intrekken") == 1  # the offered places are answered, not withdrawn
    sent = await client.post(f"{PAGE}/vrije-plaatsen/{place}/intrekken")
    assert (sent.status_code, sent.headers["location"]) == (303, PAGE)
    assert uow.places.places[place].status is PlaceStatus.WITHDRAWN
    after = (await client.get(PAGE)).text
    assert "De vrije plaats is ingetrokken" in after and "/intrekken" not in after


async def test_an_accepted_offer_is_confirmed_with_a_start_date(
    world: dict[str, str], client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    page = await client.get("/organisator/aanbiedingen/match-1")
    assert page.status_code == 200
    assert f'name="start_date" type="date" value="{NEXT_MONTH}"' in page.text
    assert "/organisator/contact/match-1" in page.text  # contact details live in intake
    start = NEXT_MONTH + timedelta(days=7)
    sent = await client.post("/organisator/aanbiedingen/match-1/bevestigen",
                             data={"start_date": start.strftime("%d/%m/%Y"),
                                   "day_parts": ["mon_am", "mon_pm"]})
    assert (sent.status_code, sent.headers["location"]) == (303, PAGE)
    [enrolment] = [e for e in uow.enrolments.enrolments.values() if e.match_id == "match-1"]
    assert (enrolment.start_date, enrolment.day_parts) == (start, ("mon_am", "mon_pm"))
    assert uow.offers.offers["match-1"].status is OfferStatus.CONFIRMED
    assert f"het kind begint op {start.strftime('%d/%m/%Y')}" in (await client.get(PAGE)).text


async def test_an_offer_is_refused_with_a_reason(
    world: dict[str, str], client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    without = await client.post("/organisator/aanbiedingen/match-2/weigeren", data={})
    assert without.status_code == 422
    assert field_error(without.text, "reason") == "Kies een reden."
    assert "/organisator/contact/match-2" not in without.text  # not accepted: no contact
    sent = await client.post("/organisator/aanbiedingen/match-2/weigeren",
                             data={"reason": "day_parts_not_available"})
    assert (sent.status_code, sent.headers["location"]) == (303, PAGE)
    assert uow.offers.offers["match-2"].status is OfferStatus.REFUSED
    [refused] = [e for e in uow.published_data() if isinstance(e, MatchRefused)]
    assert refused.reason == "day_parts_not_available"
    page = (await client.get(PAGE)).text
    assert "Je weigerde het aanbod" in page
    assert "Geweigerd door jou: de gevraagde dagdelen zijn niet vrij" in page


async def test_another_organisers_location_and_offers_are_not_found(
    world: dict[str, str], client: httpx.AsyncClient
) -> None:
    theirs = await client.get("/organisator/locaties/loc-b")
    assert theirs.status_code == 404
    assert "bestaan niet (of horen niet bij jou)" in theirs.text
    other = headers("other_organiser")
    for method, path, data in [
        ("GET", PAGE, None),
        ("POST", PAGE + "/vrije-plaatsen", {"available_from": str(NEXT_MONTH)}),
        ("POST", f"{PAGE}/vrije-plaatsen/{world['open_place']}/intrekken", None),
        ("GET", "/organisator/aanbiedingen/match-1", None),
        ("POST", "/organisator/aanbiedingen/match-1/bevestigen", {}),
        ("POST", "/organisator/aanbiedingen/match-2/weigeren", {"reason": "other"}),
    ]:
        answer = await client.request(method, path, data=data, headers=other)
        assert answer.status_code == 404, (method, path)


@asynccontextmanager
async def browser(app: FastAPI, persona: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as `persona` through the sign-in pages (the provider faked):
    a session cookie and no bearer token."""
    app.state.oidc_endpoints = ProviderEndpoints("https://login.test/auth",
                                                 "https://login.test/token", None)
    app.state.oidc_transport = httpx.MockTransport(lambda request: httpx.Response(
        200, json={"access_token": token(persona), "token_type": "Bearer"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://capacity") as client:
        started = await client.get("/aanmelden", params={"volgende": "/organisator"})
        state = parse_qs(urlparse(started.headers["location"]).query)["state"][0]
        back = await client.get("/aanmelden/terug", params={"code": "c", "state": state})
        assert back.status_code == 303
        yield client


async def test_a_form_posted_in_a_session_needs_its_csrf_token(
    world: dict[str, str], app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    withdraw = f"{PAGE}/vrije-plaatsen/{world['open_place']}/intrekken"
    async with browser(app, "organiser") as session:
        page = await session.get(PAGE)
        assert "Aangemeld als <strong>organiser-zonneke</strong>" in page.text
        forged = await session.post(withdraw, data={})
        assert forged.status_code == 403
        assert "Dit formulier is verlopen" in forged.text
        assert uow.places.places[world["open_place"]].status is PlaceStatus.OPEN
        [csrf] = set(CSRF.findall(page.text))
        sent = await session.post(withdraw, data={"csrf_token": csrf})
        assert sent.status_code == 303
    assert uow.places.places[world["open_place"]].status is PlaceStatus.WITHDRAWN
