"""A location must close, in a real browser: the coordinator (coordinator.jan) registers
the closure on `/crisis`; it stays confidential (the child placed there is listed, the
family is not told, intake still sees the placement); released, the location closes,
intake gives the child a crisis request, and the closure's page follows the child (and
the desk sees the crisis request). Every page passes axe-core and is photographed into
docs/screenshots/."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.browser.support import NewPage, check_page, labelled, open_as
from tests.e2e.support import (
    MON_TO_WED,
    START,
    answer,
    eventually,
    free_places,
    open_offer,
    organiser_answer,
    register_location,
    request_status,
    submit_request,
)
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]
COORDINATOR = "coordinator.jan"


def placed_child(http: httpx.Client, system: System, closing: str, elsewhere: str) -> str:
    """A child placed, through the loket, at a location that will close; the family also
    chose a second location. Its request's id."""
    child = {"first_name": "Wout", "last_name": f"Sluiting-{closing[-6:]}",
             "birth_date": (START - timedelta(days=300)).isoformat()}
    request_id = submit_request(http, system, [closing, elsewhere], child=child)
    free_places(http, system, closing)
    offer = open_offer(http, system, request_id)
    answer(http, system, request_id, offer["match_id"], "accept")
    organiser_answer(http, system, offer["match_id"], "confirm",
                     start_date=START.isoformat(), day_parts=MON_TO_WED)
    eventually(lambda: request_status(http, system, request_id)["status"] == "placed",
               what="the child is placed at the location that will close")
    return request_id


def crisis_request(http: httpx.Client, system: System, request_id: str) -> dict[str, Any]:
    """Once released: intake replaces the child's request by a crisis request."""
    old = eventually(lambda: (s := request_status(http, system, request_id))["status"]
                     == "replaced_after_closure" and s, what="intake replaces the request")
    return request_status(http, system, old["replaced_by_request_id"])


async def test_the_coordinator_registers_releases_and_follows_a_closure(
    new_page: NewPage, system: System, http: httpx.Client
) -> None:
    closing, elsewhere = await asyncio.gather(
        asyncio.to_thread(register_location, http, system),
        asyncio.to_thread(register_location, http, system))
    request_id = await asyncio.to_thread(placed_child, http, system, closing, elsewhere)
    name = f"KDV test {closing}"
    page = await new_page()
    await open_as(page, "capacity", "/crisis", COORDINATOR)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sluitingen")
    await check_page(page, "crisis-sluitingen")

    await labelled(page, "Welke locatie sluit?").select_option(closing)
    await labelled(page, "Waarom sluit ze?").select_option(label="Vergunning geschorst")
    await labelled(page, "Gesloten vanaf").fill(START.isoformat())
    await page.get_by_role("button", name="Sluiting vertrouwelijk registreren").click()
    await expect(page).to_have_url(re.compile(r"/crisis/sluitingen/[^/]+$"))
    closure_path = urlsplit(page.url).path
    await expect(page.get_by_role("status")).to_contain_text(
        f"De sluiting van {name} is vertrouwelijk geregistreerd")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Sluiting van {name}")
    facts = page.locator("dl.facts")
    await expect(facts).to_contain_text("Vertrouwelijk nog niet vrijgegeven")
    affected = page.get_by_role("table", name="Getroffen kinderen en hoe ver ze staan")
    child = affected.get_by_role("row").filter(has_text=f"aanvraag {request_id}")
    await expect(child).to_contain_text("ingeschreven")
    await expect(child).to_contain_text("Nog niet ingelicht (sluiting vertrouwelijk)")
    await check_page(page, "crisis-sluiting-vertrouwelijk")

    await page.get_by_role("link", name="Terug naar de sluitingen").click()
    listed = page.get_by_role("table", name="Sluitingen, de nieuwste eerst").get_by_role(
        "row").filter(has_text=name)
    await expect(listed).to_contain_text("Vertrouwelijk")
    # a location with a closure under way cannot be closed a second time
    await expect(labelled(page, "Welke locatie sluit?").locator(
        f"option[value='{closing}']")).to_have_count(0)
    await listed.get_by_role("link", name=re.compile("^Opvolgen")).click()
    await expect(page).to_have_url(re.compile(re.escape(closure_path) + "$"))
    # confidential: nothing left capacity, intake still sees the child placed
    assert (await asyncio.to_thread(request_status, http, system, request_id))["status"] \
        == "placed"

    await page.get_by_role("button", name="Sluiting vrijgeven: de ouders zijn ingelicht").click()
    await expect(page.get_by_role("status")).to_contain_text("De sluiting is vrijgegeven")
    await expect(facts).to_contain_text("Vrijgegeven op")
    await expect(page.get_by_role("button", name=re.compile("vrijgeven"))).to_have_count(0)
    crisis = await asyncio.to_thread(crisis_request, http, system, request_id)
    assert crisis["urgency"] == "crisis" and crisis["preferred_location_ids"] == [elsewhere]
    await page.reload()
    await expect(child).to_contain_text("Wacht op een plaats")
    await expect(page.locator("main")).to_contain_text("0 van de 1 kinderen zijn herplaatst")
    await check_page(page, "crisis-sluiting")

    # the desk follows the crisis request on its own page
    desk = await new_page()
    await open_as(desk, "intake", f"/balie/aanvragen/{crisis['request_id']}", "balie.els")
    await expect(desk.locator("p .status").filter(has_text="crisis")).to_be_visible()
    await expect(desk.get_by_role("link", name=request_id)).to_be_visible()  # replaces it
    await check_page(desk, "balie-crisisaanvraag")
