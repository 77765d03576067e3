"""From a family's request to "geplaatst", in real browsers and only through the pages:
a family registers without an account; the organiser (organisator.lies) announces a
free place on its location's page; the loket offers it to the family, who accepts it on
its status page; the organiser confirms the offer with a start date and may then read
the family's contact; the family's page says the child is placed. Every page passes
axe-core and is photographed into docs/screenshots/."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser.support import (
    NewPage,
    check_page,
    fill_request_form,
    labelled,
    new_family,
    open_as,
    reload_until,
    service_url,
    shows,
)
from tests.e2e.support import START, register_location
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]
ORGANISER = "organisator.lies"


async def register_as_family(page: Page, location_id: str) -> tuple[str, str]:
    """The family registers for one location; (request id, parent's name) once its
    status page is open (this browser's session keeps the personal link)."""
    family = new_family(START)
    await page.goto(service_url("intake", "/aanvraag"))
    await fill_request_form(page, family, location_id,
                            priority="De ouders hebben opvang nodig om te werken")
    await page.get_by_role("button", name="Aanvraag versturen").click()
    await expect(page).to_have_url(service_url("intake", "/aanvraag/geregistreerd"))
    await page.get_by_role("link", name="Bekijk je aanvraag").click()
    await expect(page).to_have_url(re.compile(r"/mijn-aanvraag/[^/#]+$"))
    return page.url.rsplit("/", 1)[1], family.parent_name


async def test_a_free_place_becomes_a_placement_through_the_pages(
    new_page: NewPage, system: System, http: httpx.Client
) -> None:
    location_id = await asyncio.to_thread(register_location, http, system)
    name = f"KDV test {location_id}"
    family = await new_page()
    request_id, parent_name = await register_as_family(family, location_id)

    # the organiser: its locations, then this one's page, where it announces a place
    organiser = await new_page()
    await open_as(organiser, "capacity", "/organisator", ORGANISER)
    await expect(organiser.get_by_role("heading", level=1)).to_have_text("Mijn locaties")
    await check_page(organiser, "organisator-locaties")
    await organiser.get_by_role("link", name=name, exact=True).click()
    await expect(organiser).to_have_url(
        service_url("capacity", f"/organisator/locaties/{location_id}"))
    await expect(organiser.get_by_role("heading", level=1)).to_have_text(name)
    await expect(organiser.get_by_text("Er staan geen open vrije plaatsen.")).to_be_visible()
    await check_page(organiser, "organisator-locatie")
    await labelled(organiser, "Vrij vanaf").fill(START.isoformat())
    # a new announcement offers the whole week, one place
    day_parts = organiser.get_by_role("group", name="Op welke dagdelen is de plaats vrij?")
    assert await day_parts.get_by_role("checkbox").count() == 10
    for box in await day_parts.get_by_role("checkbox").all():
        await expect(box).to_be_checked()
    await expect(labelled(organiser, "Hoeveel zulke plaatsen?")).to_have_value("1")
    await organiser.get_by_role("button", name="Vrije plaats melden").click()
    await expect(organiser.get_by_role("status")).to_contain_text("Je vrije plaats is gemeld")
    places = organiser.get_by_role("table", name=re.compile("Open vrije plaatsen"))
    await expect(places.locator("tbody tr")).to_have_count(1)

    # the family: the loket offers the place; it accepts
    accept = family.get_by_role("button", name="Aanvaarden", exact=True)
    await reload_until(family, accept.is_visible, "the offer of the announced place")
    offer = family.locator("section.offer")
    await expect(offer.get_by_role("heading", level=3)).to_have_text(name)
    await expect(offer).to_contain_text("Open: antwoord vóór")
    await check_page(family, "mijn-aanvraag-aanbod")
    await accept.click()
    await expect(family.get_by_role("status")).to_contain_text(f"Je aanvaardde de plaats in {name}")
    await expect(offer).to_contain_text("Aanvaard, wachten op de opvang")

    # the organiser: the accepted offer waits for its answer; it confirms with a start date
    answer = organiser.get_by_role("link", name=re.compile("^Bevestigen of weigeren"))
    await reload_until(organiser, answer.is_visible, "the family's acceptance")
    await answer.click()
    await expect(organiser.get_by_role("heading", level=1)).to_have_text(
        f"Aanbod voor aanvraag {request_id}")
    contact = organiser.get_by_role("link", name="contactgegevens van het gezin")
    await expect(contact).to_be_visible()
    start = labelled(organiser, "Startdatum (niet verplicht)")
    await expect(start).to_have_value(START.isoformat())  # the offer's start, proposed
    await check_page(organiser, "organisator-aanbod")
    await start.fill(START.isoformat())
    await organiser.get_by_role("button", name="Plaats bevestigen").click()
    await expect(organiser).to_have_url(
        service_url("capacity", f"/organisator/locaties/{location_id}"))
    await expect(organiser.get_by_role("status")).to_contain_text("Je bevestigde de plaats")
    done = organiser.get_by_role("table", name=re.compile("Aanbiedingen die bevestigd"))
    await expect(done.get_by_role("row").filter(has_text=request_id)).to_contain_text(
        "Bevestigd: het kind is ingeschreven")

    # the family's contact, in intake (single sign-on: no second login)
    await done.get_by_role("link", name=re.compile("^Contactgegevens")).click()
    await expect(organiser).to_have_url(re.compile(r"/organisator/contact/[^/]+$"))
    await expect(organiser.get_by_role("heading", level=1)).to_have_text("Contact van het gezin")
    await expect(organiser.locator("main")).to_contain_text(parent_name)
    await check_page(organiser, "organisator-contact")

    # the family's page: placed
    await reload_until(family, lambda: shows(family, "Geplaatst"), "the placement")
    await expect(family.locator(".status").first).to_have_text("Geplaatst")
    await expect(family.locator("main")).to_contain_text(f"Je kind is geplaatst: {name}")
    await check_page(family, "mijn-aanvraag-geplaatst")
