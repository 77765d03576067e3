"""Reporting's figures page (`/`) in a real browser: a municipality signs in through the
identity provider and sees its own municipality's figures only; the session cookie is
HttpOnly, Secure and SameSite=Lax; "Afmelden" signs out at the provider too; on a phone
the page itself does not scroll sideways. Every page passes axe-core (no serious or
critical violations) and is photographed into docs/screenshots/."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, Response, expect

from tests.e2e.browser.support import (
    PHONE,
    USERNAME,
    NewPage,
    check_page,
    is_ours,
    page_widths,
    service_url,
    sign_in,
)
from tests.e2e.support import (
    eventually,
    figures_for,
    free_places,
    register_location,
    submit_request,
)
from tools.processes import ServiceProcess

pytestmark = pytest.mark.e2e

System = dict[str, ServiceProcess]
GEEL, LAAKDAL = "13008", "13053"
COOKIE = "loket_reporting_sessie"


def figures_in_two_municipalities(http: httpx.Client, system: System) -> None:
    """Facts in Geel (a family's request) and in Laakdal (a location's free place), as
    Opgroeien (who sees every municipality) reads them from the API."""
    location_id = register_location(http, system, municipality_nis=LAAKDAL)
    free_places(http, system, location_id)
    submit_request(http, system, [location_id], municipality_nis=GEEL)
    eventually(lambda: figures_for(http, system, GEEL).get("requests_submitted", 0) >= 1
               and figures_for(http, system, LAAKDAL).get("free_places", 0) >= 1,
               what="reporting counts Geel's request and Laakdal's free place")


async def open_signed_in(page: Page, account: str) -> None:
    await page.goto(service_url("reporting", "/"))
    await sign_in(page, account)
    assert page.url == service_url("reporting", "/"), page.url


async def test_a_municipality_signs_in_and_sees_only_its_own_figures(
    page: Page, system: System, http: httpx.Client, identity_provider: str
) -> None:
    await asyncio.to_thread(figures_in_two_municipalities, http, system)
    navigations: list[tuple[int, str]] = []

    def hop(response: Response) -> None:
        if response.request.is_navigation_request():
            navigations.append((response.status, response.url))

    page.on("response", hop)
    await page.goto(service_url("reporting", "/"))
    # not signed in: via /aanmelden to the provider's login form, back to /aanmelden/terug
    assert page.url.startswith(f"{identity_provider}/protocol/openid-connect/auth?"), page.url
    asked = parse_qs(urlsplit(page.url).query)
    assert asked["redirect_uri"] == [service_url("reporting", "/aanmelden/terug")]
    assert (asked["client_id"], asked["code_challenge_method"]) == (["loket-web"], ["S256"])
    await expect(page.locator(USERNAME)).to_be_visible()
    await check_page(page, "aanmelden-keycloak")  # the provider's page: only photographed
    await sign_in(page, "gemeente.geel")
    assert page.url == service_url("reporting", "/")
    statuses = [(status, urlsplit(url).path) for status, url in navigations if is_ours(url)]
    assert statuses == [(303, "/"), (303, "/aanmelden"), (303, "/aanmelden/terug"),
                        (200, "/")], navigations

    await expect(page.locator("h1")).to_have_text("Registratiecijfers Lokaal Loket Kinderopvang")
    await expect(page.get_by_role("button", name="Afmelden")).to_be_visible()
    # every table has one municipality row: Geel's (with its NIS code), never Laakdal's
    tables = page.locator("table")
    assert await tables.count() >= 1
    rows = await page.locator("table tbody th[scope=row]").all_inner_texts()
    assert len(rows) == await tables.count(), rows
    assert {row.replace(GEEL, "").strip() for row in rows} == {"Geel"}, rows
    assert all(GEEL in row for row in rows), rows
    shown = " ".join(await tables.all_inner_texts())
    assert "Laakdal" not in shown and LAAKDAL not in shown
    # Geel's request is counted in Geel's row ("Aanvragen", the first figure)
    first_figure = page.locator("table").first.locator("tbody tr").first.locator("td").first
    assert int((await first_figure.inner_text()).replace(".", "")) >= 1
    await check_page(page, "cijfers-gemeente")


async def test_the_session_cookie_is_httponly_secure_and_samesite_lax(page: Page) -> None:
    await open_signed_in(page, "gemeente.geel")
    cookies = {cookie.get("name"): cookie for cookie in await page.context.cookies(
        service_url("reporting", "/"))}
    assert COOKIE in cookies, sorted(str(name) for name in cookies)
    session = cookies[COOKIE]
    assert (session.get("httpOnly"), session.get("secure"), session.get("sameSite")) == (
        True, True, "Lax"), session
    assert (session.get("domain"), session.get("path")) == ("127.0.0.1", "/"), session
    # the other services' sessions are their own cookies: none was set by reporting
    assert not [name for name in cookies if str(name).startswith("loket_")
                and name != COOKIE], sorted(str(name) for name in cookies)


async def test_afmelden_signs_out_here_and_at_the_identity_provider(page: Page) -> None:
    await open_signed_in(page, "gemeente.geel")
    await page.get_by_role("button", name="Afmelden").click()
    # the provider ends its session and sends the browser home: to sign in again
    await page.wait_for_url(lambda url: not is_ours(url))
    await expect(page.locator(USERNAME)).to_be_visible()
    await page.goto(service_url("reporting", "/"))
    assert not is_ours(page.url), page.url
    await expect(page.locator(USERNAME)).to_be_visible()  # the provider asks again


async def test_on_a_phone_only_the_wide_tables_scroll_sideways(new_page: NewPage) -> None:
    page = await new_page(PHONE)
    await open_signed_in(page, "gemeente.geel")
    scroll_width, inner_width = await page_widths(page)
    assert scroll_width <= inner_width, (scroll_width, inner_width)
    # each table sits in its own horizontally scrolling container
    tables = page.locator("table")
    assert await tables.count() == await page.locator(".scroll > table").count()
    await check_page(page, "cijfers-gemeente-telefoon")
