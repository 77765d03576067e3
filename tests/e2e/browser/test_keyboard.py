"""A family registers at `/aanvraag` with the keyboard only: Tab and Shift+Tab to move,
typing into fields and selects, Space for checkboxes, Enter on the button (no mouse, no
`fill`, `click`, `check` or `select_option`). The skip link "Naar de inhoud" is the
first Tab stop and leads into the form; the focus can always be seen."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser.support import (
    NewPage,
    check_page,
    focus_is_visible,
    focused,
    new_family,
    service_url,
    tab_to,
)
from tests.e2e.support import register_location
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]


def day_equals_month(after: date) -> date:
    """The first day after `after` whose day and month are the same number (2 February):
    typed the same in a date field that asks dd/mm/yyyy or mm/dd/yyyy (the browser's own
    language decides, not the page's)."""
    day = after + timedelta(days=1)
    while day.day != day.month:
        day += timedelta(days=1)
    return day


def digits(day: date) -> str:
    return f"{day.day:02d}{day.month:02d}{day.year}"


async def type_into(page: Page, target: str, text: str) -> None:
    await tab_to(page, target)
    await page.keyboard.type(text)


async def tick(page: Page, target: str) -> None:
    await tab_to(page, target)
    await page.keyboard.press("Space")
    await expect(page.locator(target)).to_be_checked()


async def assert_focus_visible(page: Page) -> None:
    style = await focus_is_visible(page)
    assert style != "none", f"no visible focus on {(await focused(page))['text']}"


async def test_a_family_registers_with_the_keyboard_only(
    new_page: NewPage, system: System, http: httpx.Client
) -> None:
    location_id = await asyncio.to_thread(register_location, http, system)
    start = day_equals_month(date.today() + timedelta(days=60))
    family = new_family(start)
    birth = start.replace(year=start.year - 1)
    page = await new_page()
    await page.goto(service_url("intake", "/aanvraag"))
    await check_page(page, "aanvraag-toetsenbord")

    # the first Tab stop is the skip link, visibly focused; Enter on it skips the header
    await page.keyboard.press("Tab")
    first = await focused(page, "a.skip")
    assert first["match"] and "Naar de inhoud" in first["text"], first
    await assert_focus_visible(page)
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert (await focused(page, "#veld-child_first_name"))["match"], await focused(page)
    await assert_focus_visible(page)

    await page.keyboard.type(family.first_name)
    await type_into(page, "#veld-child_last_name", family.last_name)
    await type_into(page, "#veld-child_birth_date", digits(birth))
    await type_into(page, "#veld-parent_name", family.parent_name)
    await type_into(page, "#veld-parent_email", family.email or "")
    # a typo in the postcode, seen one field later: Shift+Tab back and type it again
    await type_into(page, "#veld-parent_postcode", "244")
    await tab_to(page, "#veld-municipality_nis")
    await tab_to(page, "#veld-parent_postcode", backwards=True)
    await page.keyboard.press("Control+A")
    await page.keyboard.type(family.postcode)
    await type_into(page, "#veld-municipality_nis", family.municipality)
    await type_into(page, "#veld-desired_start_date", digits(start))
    for day_part in ("mon_am", "mon_pm", "tue_am", "tue_pm"):
        await tick(page, f"#veld-day_parts-{day_part}")
    await assert_focus_visible(page)
    # a select: typing the option's name picks it
    await type_into(page, "#veld-keuze_1", f"KDV test {location_id}")
    await tick(page, "#veld-priority_parents_working_or_training")
    await tick(page, "#veld-sworn_statement")
    await tick(page, "#veld-share_contact_with_organiser")

    for selector, value in (
            ("#veld-child_first_name", family.first_name),
            ("#veld-child_last_name", family.last_name),
            ("#veld-child_birth_date", birth.isoformat()),
            ("#veld-parent_email", family.email), ("#veld-parent_postcode", "2440"),
            ("#veld-municipality_nis", "13008"),
            ("#veld-desired_start_date", start.isoformat()), ("#veld-keuze_1", location_id)):
        await expect(page.locator(selector)).to_have_value(value or "")
    await tab_to(page, "Aanvraag versturen")
    await assert_focus_visible(page)
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(service_url("intake", "/aanvraag/geregistreerd"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Je aanvraag is geregistreerd")
    await check_page(page, "aanvraag-toetsenbord-geregistreerd")
    await tab_to(page, "Bekijk je aanvraag")
    await assert_focus_visible(page)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Aanvraag voor {family.first_name}")
    choice = page.get_by_role("row").filter(has_text=f"KDV test {location_id}")
    await expect(choice).to_contain_text("Wachten op een plaats")
    await check_page(page, "mijn-aanvraag-toetsenbord")


async def test_every_tab_stop_of_the_request_form_shows_its_focus(page: Page) -> None:
    await page.goto(service_url("intake", "/aanvraag"))
    unseen: list[str] = []
    stops: list[str] = []
    for _ in range(120):
        await page.keyboard.press("Tab")
        now = await focused(page)
        if now["text"] == "body" or (stops and now["text"] == stops[0]):
            break  # past the last stop: back to the page, or round to the first
        inside = bool(stops) and now["text"] == stops[-1]
        stops.append(str(now["text"]))
        # a date field's later stops (month, year, its calendar button) are the
        # browser's own widget, which draws its own ring around the calendar button
        if not inside and await focus_is_visible(page) == "none":
            unseen.append(str(now["text"]))
    assert stops and stops[-1].startswith('button "Aanvraag versturen'), stops
    assert unseen == [], f"focus not visible on: {unseen}"
