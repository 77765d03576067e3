"""The coordinator's crisis pages: a closure registered through the form stays
confidential (listed as such, nothing published) until released; the follow-up page
lists every child the closure reaches and how far each one is; another area's closure
is not found."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import CrisisClosure
from contracts.schedule import DAY_PARTS
from loketkit.testing import deliver
from tests.personas import AsPersonas, headers, signed_in
from tests.unit.capacity.conftest import NEXT_MONTH, TODAY, acceptance, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

ZONNEKE = {"location_id": "loc-a", "name": "Het Zonneke", "municipality_nis": "13008",
           "postcode": "2440", "capacity": 10, "subsidy_tier": "plus"}
WERELD = ZONNEKE | {"location_id": "loc-c", "name": "De Kleine Wereld"}
# The coordinator opens the crisis pages; the organiser runs the locations.
USERS = AsPersonas([("*", r"/crisis.*|/closures.*|/locations/[^/]+/closures", "coordinator")],
                   default="organiser")
CLOSURE = {"location_id": "loc-a", "reason": "licence_revoked",
           "effective_from": NEXT_MONTH.strftime("%d/%m/%Y")}


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="fout-{name}">.*?</span>(.*?)</p>', html)
    return found.group(1) if found else ""


def row_of(html: str, header: str) -> str:
    """The table row whose row header reads `header`."""
    found = re.search(rf'<tr>\s*<th scope="row">{re.escape(header)}</th>(.*?)</tr>', html,
                      re.DOTALL)
    assert found, header
    return re.sub(r"\s+", " ", found.group(1))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # https: the session cookie carrying the one-time notice is Secure
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://capacity",
                                 auth=signed_in(app, USERS)) as client:
        yield client


@pytest.fixture
async def busy(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Het Zonneke with a child admitted outside the loket (own-1), a child placed by
    the loket (req-1) and an offer the family still decides on (req-2); De Kleine
    Wereld, nearby, with free places."""
    for location in (ZONNEKE, WERELD):
        assert (await client.post("/locations", json=location)).status_code == 201
    declared = {"enrolment_id": "own-1", "start_date": str(TODAY), "day_parts": ["mon_am"]}
    assert (await client.put("/locations/loc-a/enrolments",
                             json={"enrolments": [declared]})).status_code == 200
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(TODAY), "count": 2})
    placed, offered = freed.json()["place_ids"]
    first = proposal(match_id="match-1", place_id=placed, request_id="req-1",
                     start_date=TODAY)
    await deliver(app.state.consumer, first)
    await deliver(app.state.consumer, acceptance(first))
    assert (await client.post("/offers/match-1/confirm", json={})).status_code == 201
    await deliver(app.state.consumer,
                  proposal(match_id="match-2", place_id=offered, request_id="req-2"))
    assert (await client.post("/locations/loc-c/free-places", json={
        "available_from": str(NEXT_MONTH), "count": 2,
        "day_parts": list(DAY_PARTS)})).status_code == 201


async def register(client: httpx.AsyncClient) -> str:
    sent = await client.post("/crisis", data=CLOSURE)
    assert sent.status_code == 303, sent.text
    location: str = sent.headers["location"]
    assert location.startswith("/crisis/sluitingen/")
    return location


async def test_a_closure_registered_through_the_form_is_listed_as_confidential(
    busy: None, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    published = len(uow.published)
    page = await client.get("/crisis")
    assert page.status_code == 200 and page.text.count("<h1>") == 1
    assert '<option value="loc-a">Het Zonneke</option>' in page.text
    closure_page = await register(client)
    assert len(uow.published) == published  # confidential: nothing leaves capacity
    assert "vertrouwelijk geregistreerd" in (await client.get(closure_page)).text
    listed = await client.get("/crisis")
    row = row_of(listed.text, "Het Zonneke")
    assert "Vertrouwelijk" in row and NEXT_MONTH.strftime("%d/%m/%Y") in row
    assert "Vergunning opgeheven" in row
    assert '<td class="number">3</td>' in row  # own-1, req-1 and req-2's offer
    # a location with a closure registered is no longer offered for another one
    assert '<option value="loc-a">' not in listed.text
    assert (await client.get("/locations/loc-a")).json()["closed"] is False


async def test_a_form_with_errors_comes_back_in_dutch_with_what_was_typed(
    busy: None, client: httpx.AsyncClient
) -> None:
    empty = await client.post("/crisis", data={})
    assert empty.status_code == 422
    assert field_error(empty.text, "location_id") == "Kies de locatie die sluit, uit de lijst."
    assert field_error(empty.text, "reason") == "Kies een reden."
    assert field_error(empty.text, "effective_from") == (
        "Vul de dag in vanaf wanneer de locatie sluit.")
    backwards = await client.post("/crisis", data=CLOSURE | {
        "reason": "licence_suspended",
        "expected_end": (NEXT_MONTH - timedelta(days=1)).strftime("%d/%m/%Y")})
    assert backwards.status_code == 422
    assert field_error(backwards.text, "expected_end") == (
        "Het verwachte einde ligt vóór de sluitingsdatum.")
    assert '<option value="loc-a" selected>' in backwards.text
    assert '<option value="licence_suspended" selected>' in backwards.text
    assert f'value="{CLOSURE["effective_from"]}"' in backwards.text


async def test_releasing_closes_the_location_and_the_list_says_so(
    busy: None, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork
) -> None:
    closure_page = await register(client)
    before = (await client.get(closure_page)).text
    assert "Geef de sluiting pas vrij als de ouders ingelicht zijn" in before
    released = await client.post(closure_page + "/vrijgeven")
    assert (released.status_code, released.headers["location"]) == (303, closure_page)
    [event] = [e for e in uow.published_data() if isinstance(e, CrisisClosure)]
    assert event.location_id == "loc-a"
    assert (await client.get("/locations/loc-a")).json()["closed"] is True
    after = (await client.get(closure_page)).text
    assert "De sluiting is vrijgegeven" in after and "/vrijgeven" not in after
    assert "Vrijgegeven" in row_of((await client.get("/crisis")).text, "Het Zonneke")
    again = await client.post(closure_page + "/vrijgeven")
    assert again.status_code == 409  # a Dutch page: the state changed meanwhile


async def test_the_follow_up_lists_every_affected_child_until_re_placed(
    app: FastAPI, busy: None, client: httpx.AsyncClient
) -> None:
    closure_page = await register(client)
    confidential = (await client.get(closure_page)).text
    assert "Nog niet ingelicht" in row_of(confidential, "aanvraag req-1")
    await client.post(closure_page + "/vrijgeven")
    page = (await client.get(closure_page)).text
    assert "Niet via het loket" in row_of(page, "inschrijving own-1")
    assert "maandag voormiddag" in row_of(page, "inschrijving own-1")
    assert "Wacht op een plaats" in row_of(page, "aanvraag req-1")
    assert "met een aanbod daar" in row_of(page, "aanvraag req-2")
    # De Kleine Wereld takes req-1 (accepted and confirmed) and offers req-2 a place
    wereld = sorted(p.place_id for p in await app.state.context.uow().places.open_at("loc-c"))
    again = proposal(match_id="match-3", place_id=wereld[0], request_id="req-1",
                     location_id="loc-c")
    await deliver(app.state.consumer, again)
    await deliver(app.state.consumer, acceptance(again))
    assert (await client.post("/offers/match-3/confirm", json={})).status_code == 201
    await deliver(app.state.consumer, proposal(match_id="match-4", place_id=wereld[1],
                                               request_id="req-2", location_id="loc-c"))
    page = (await client.get(closure_page)).text
    assert "Herplaatst</span> in De Kleine Wereld vanaf " + NEXT_MONTH.strftime(
        "%d/%m/%Y") in row_of(page, "aanvraag req-1")
    assert "Aanbod</span> bij De Kleine Wereld" in row_of(page, "aanvraag req-2")
    assert "1 van de 3 kinderen is herplaatst" in page
    assert "1 van 3" in row_of((await client.get("/crisis")).text, "Het Zonneke")


async def test_another_areas_closure_is_not_found(
    busy: None, client: httpx.AsyncClient
) -> None:
    closure_page = await register(client)
    other = headers("coordinator_other_area")
    assert (await client.get(closure_page, headers=other)).status_code == 404
    assert (await client.post(closure_page + "/vrijgeven", headers=other)).status_code == 404
    listed = await client.get("/crisis", headers=other)
    assert listed.status_code == 200
    assert "Het Zonneke" not in listed.text  # neither its closures nor its locations
    foreign = await client.post("/crisis", data=CLOSURE, headers=other)
    assert foreign.status_code == 422
    assert field_error(foreign.text, "location_id") == "Kies de locatie die sluit, uit de lijst."
    organiser = await client.get("/crisis", headers=headers("organiser"))
    assert organiser.status_code == 403
