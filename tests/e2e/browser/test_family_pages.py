"""A family registers without an account at `/aanvraag`, in a real browser: a mistake
comes back in Dutch next to its field with everything typed kept; once put right, the
registered page shows the personal link, which opens the request's status page (in this
browser, and in another one that only has the link). On a phone the form fits the
screen. Every page passes axe-core and is photographed into docs/screenshots/."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.browser.support import (
    PHONE,
    NewPage,
    check_page,
    fill_request_form,
    labelled,
    new_family,
    page_widths,
    service_url,
)
from tests.e2e.support import START, eventually, register_location
from tools.mailsink import MailSink
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]
SWORN = ("Je gaf gegevens op voor voorrang. Bevestig op erewoord dat ze kloppen, of vink "
         "ze uit.")
NO_FIRST_NAME = "Vul de voornaam van het kind in."
SINGLE_PARENT = "Alleenstaande ouder"
LINK = re.compile(r"^http://127\.0\.0\.1:\d+/mijn-aanvraag#[\w.~-]{20,}$")


def mailed_texts(sink: MailSink, address: str) -> list[str]:
    """The plain text of each mail the family got."""
    texts = []
    for message in sink.messages():
        if address in str(message["To"]):
            body = message.get_body(preferencelist=("plain",))
            texts.append(str(body.get_content()) if body is not None else "")
    return texts


async def test_a_family_registers_without_an_account_and_follows_its_request(
    new_page: NewPage, system: System, http: httpx.Client, mail_sink: MailSink
) -> None:
    location_id = await asyncio.to_thread(register_location, http, system)
    family = new_family(START)
    page = await new_page()
    await page.goto(service_url("intake", "/aanvraag"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Opvang aanvragen")
    await check_page(page, "aanvraag-formulier")

    # a priority fact without the sworn statement, and the child's first name forgotten
    await fill_request_form(page, family, location_id, priority=SINGLE_PARENT, sworn=False)
    await labelled(page, "Voornaam van het kind").fill("")
    await page.get_by_role("button", name="Aanvraag versturen").click()
    await expect(page).to_have_title(re.compile(r"^Fout: "))
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Controleer wat je invulde")
    await expect(summary.get_by_role("link", name=NO_FIRST_NAME)).to_have_attribute(
        "href", "#veld-child_first_name")
    await expect(summary.get_by_role("link", name=SWORN)).to_have_attribute(
        "href", "#veld-sworn_statement")
    # each message sits next to its field, and the field says so to a screen reader
    for field, message in (("child_first_name", NO_FIRST_NAME), ("sworn_statement", SWORN)):
        await expect(page.locator(f"#fout-{field}")).to_have_text(f"Fout: {message}")
        described = await page.locator(f"#veld-{field}").get_attribute("aria-describedby")
        assert f"fout-{field}" in (described or "").split(), (field, described)
        await expect(page.locator(f"#veld-{field}")).to_have_attribute("aria-invalid", "true")
    # everything typed is still there
    await expect(labelled(page, "Familienaam van het kind")).to_have_value(family.last_name)
    await expect(labelled(page, "Geboortedatum van het kind")).to_have_value(
        family.birth_date.isoformat())
    await expect(labelled(page, "E-mailadres (niet verplicht)")).to_have_value(family.email or "")
    await expect(labelled(page, "Vanaf welke datum is opvang nodig?")).to_have_value(
        START.isoformat())
    await expect(labelled(page, "1e keuze")).to_have_value(location_id)
    await expect(labelled(page, "Gemeente waar het gezin woont")).to_have_value("13008")
    for day_part in family.day_parts:
        await expect(labelled(page, day_part)).to_be_checked()
    await expect(labelled(page, "woensdag voormiddag")).not_to_be_checked()
    await expect(page.get_by_label(SINGLE_PARENT)).to_be_checked()
    await expect(page.get_by_label("De opvang mag de naam")).to_be_checked()
    await check_page(page, "aanvraag-fouten")

    # put right: the summary's link leads to the field, then send
    await summary.get_by_role("link", name=NO_FIRST_NAME).click()
    await expect(labelled(page, "Voornaam van het kind")).to_be_focused()
    await labelled(page, "Voornaam van het kind").fill(family.first_name)
    await page.get_by_label("Ik verklaar op erewoord").check()
    await page.get_by_role("button", name="Aanvraag versturen").click()
    await expect(page).to_have_url(service_url("intake", "/aanvraag/geregistreerd"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Je aanvraag is geregistreerd")
    link = page.locator(".personal-link a")
    personal_link = await link.inner_text()
    assert LINK.match(personal_link), personal_link
    await expect(page.get_by_text("We stuurden deze link ook naar je e-mailadres.")).to_be_visible()
    await check_page(page, "aanvraag-geregistreerd")
    # the same link came by e-mail
    await asyncio.to_thread(
        eventually, lambda: any(personal_link in text for text in mailed_texts(
            mail_sink, family.email or "")), 20, "the personal link is mailed to the family")

    # this browser's session holds the link: straight to the status page
    await page.get_by_role("link", name="Bekijk je aanvraag").click()
    await expect(page).to_have_url(re.compile(r"/mijn-aanvraag/[^/#]+$"))
    request_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Aanvraag voor {family.first_name}")
    await expect(page.locator(".status").first).to_have_text("Loopt: we zoeken een plaats")
    choice = page.get_by_role("row").filter(has_text=f"KDV test {location_id}")
    await expect(choice.get_by_role("cell").first).to_have_text("1")
    await expect(choice).to_contain_text("Wachten op een plaats")
    await expect(page.get_by_text("Nog geen aanbod.")).to_be_visible()
    await check_page(page, "mijn-aanvraag-status")

    # another browser with only the link (from the e-mail): the same request
    elsewhere = await new_page()
    await elsewhere.goto(personal_link)
    await expect(elsewhere).to_have_url(service_url("intake", f"/mijn-aanvraag/{request_id}"))
    await expect(elsewhere.get_by_role("heading", level=1)).to_have_text(
        f"Aanvraag voor {family.first_name}")
    assert "#" not in elsewhere.url  # the token left the address bar (and the history)


async def test_on_a_phone_the_request_form_fits_the_screen(new_page: NewPage) -> None:
    page = await new_page(PHONE)
    await page.goto(service_url("intake", "/aanvraag"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Opvang aanvragen")
    await check_page(page, "aanvraag-telefoon")
    # nothing sticks out of the screen (a wide table may scroll inside its own box)
    too_wide = await page.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".filter(e => !e.closest('.table-scroll'))"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.id || e.getAttribute('name') || e.tagName)")
    assert too_wide == [], too_wide
    scroll_width, inner_width = await page_widths(page)
    assert scroll_width <= inner_width, (scroll_width, inner_width)
