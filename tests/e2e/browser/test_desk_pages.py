"""The loket's desk, in a real browser: staff (balie.els) register a request for a
family without e-mail on the family's own form, land on the request's page with the
personal link to hand over, and grant urgency with a reason in the assessment form
(a decision without a reason is refused, in Dutch, next to the field). The worklist and
the search find the request. Every page passes axe-core and is photographed into
docs/screenshots/."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.browser.support import (
    NewPage,
    check_page,
    fill_request_form,
    labelled,
    new_family,
    open_as,
)
from tests.e2e.support import START, register_location
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]
STAFF = "balie.els"
REASON_NEEDED = "Geef de reden voor je beslissing over de dringendheid."
WHY = "Moeder start binnen twee weken een opleiding; geen opvang in de familie."


async def test_the_desk_registers_for_a_family_without_email_and_grants_urgency(
    new_page: NewPage, system: System, http: httpx.Client
) -> None:
    location_id = await asyncio.to_thread(register_location, http, system)
    family = new_family(START, email=False)
    child = f"{family.first_name} {family.last_name}"
    page = await new_page()
    await open_as(page, "intake", "/balie/aanvragen/nieuw", STAFF)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanvraag voor een gezin")
    await expect(page.locator("#hint-parent_email")).to_contain_text("Heeft het gezin geen e-mail?")
    await check_page(page, "balie-nieuwe-aanvraag")

    await fill_request_form(page, family, location_id, priority="Laag inkomen")
    await page.get_by_role("button", name="Aanvraag versturen").click()
    await expect(page).to_have_url(re.compile(r"/balie/aanvragen/[^/]+$"))
    request_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Aanvraag van {child}")
    # no e-mail: the page gives staff the family's personal link, to hand over
    notice = page.get_by_role("status")
    await expect(notice).to_contain_text("Dit gezin heeft geen e-mailadres")
    await expect(notice).to_contain_text(re.compile(r"/mijn-aanvraag#[\w.~-]{20,}"))
    await expect(page.locator("main")).to_contain_text("Geen e-mail: het loket laat")
    choice = page.get_by_role("row").filter(has_text=f"KDV test {location_id}")
    await expect(choice.get_by_role("cell").last).to_have_text("Wacht")

    # a decision without a reason: refused next to the reason's field, the choice kept
    grant = page.get_by_role("radio", name="Dringendheid toekennen")
    await grant.check()
    await page.get_by_role("button", name="Beoordeling bewaren").click()
    reason = labelled(page, "Reden van de beslissing")
    await expect(page.locator("#fout-reden")).to_have_text(f"Fout: {REASON_NEEDED}")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(grant).to_be_checked()
    await check_page(page, "balie-aanvraag-beoordeling-fout")

    await reason.fill(WHY)
    await page.get_by_role("button", name="Beoordeling bewaren").click()
    await expect(page).to_have_url(re.compile(rf"/balie/aanvragen/{re.escape(request_id)}$"))
    await expect(page.get_by_role("status")).to_contain_text("Dringendheid toegekend.")
    urgency = page.locator("dt", has_text="Dringendheid").locator("xpath=following-sibling::dd[1]")
    await expect(urgency).to_have_text("Toegekend door het loket")
    await expect(page.locator("main")).to_contain_text(WHY)
    await expect(page.locator("p .status").filter(has_text="dringend")).to_be_visible()
    await check_page(page, "balie-aanvraag-detail")

    # the worklist and the search find it
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    await menu.get_by_role("link", name="Werklijst").click()
    await expect(page).to_have_url(re.compile(r"/balie$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Werklijst van het loket")
    urgent = page.get_by_role("region", name=re.compile("^Dringend, nog zonder aanbod"))
    await expect(urgent.get_by_role("row").filter(has_text=child)).to_contain_text(
        "Toegekend door het loket")
    await check_page(page, "balie-werklijst")

    await menu.get_by_role("link", name="Aanvragen zoeken").click()
    await labelled(page, "Zoek op naam van kind of ouder, aanvraagnummer, postcode of "
                         "gemeente, of toestand").fill(family.last_name)
    await page.get_by_role("button", name="Zoeken").click()
    await expect(page.get_by_role("heading", level=2)).to_have_text(
        f"Gevonden voor “{family.last_name}” (1)")
    found = page.get_by_role("table", name="Gevonden aanvragen").locator("tbody tr")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text(request_id)
    await check_page(page, "balie-zoeken")
    await found.get_by_role("link", name=child).click()
    await expect(page).to_have_url(re.compile(rf"/balie/aanvragen/{re.escape(request_id)}$"))
