"""Helpers for the browser tests: where the services are, signing in on the identity
provider's form, and `check_page` (axe-core accessibility check plus a screenshot).

Our pages must have no `serious` or `critical` axe violation; the identity provider's
own pages (Keycloak's) are not ours, so they are only photographed."""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Locator, Page, ViewportSize
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import E2E_PORTS

ROOT = Path(__file__).resolve().parents[3]
AXE_SCRIPT = ROOT / "tests/browser-tools/node_modules/axe-core/axe.min.js"
SCREENSHOTS = ROOT / "docs/screenshots"
PASSWORD = "demo"  # every demo account's (deploy/keycloak/loket-realm.json)
BLOCKING_IMPACTS = ("serious", "critical")
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)
# Keycloak's login form (its standard theme)
USERNAME, PASSWORD_FIELD, SUBMIT = "#username", "#password", "#kc-login"
# the `new_page` fixture: `await new_page()` (desktop) or `await new_page(PHONE)`
NewPage = Callable[..., Awaitable[Page]]


def service_url(name: str, path: str = "/") -> str:
    """A page of one of the services the `system` fixture runs."""
    return f"http://127.0.0.1:{E2E_PORTS[name]}{path}"


def is_ours(url: str) -> bool:
    """True for a page of one of our services (not the identity provider's)."""
    parts = urlsplit(url)
    return parts.hostname == "127.0.0.1" and parts.port in E2E_PORTS.values()


@dataclass
class CheckedPage:
    name: str
    url: str
    screenshot: Path
    axe_checked: bool
    # every violation axe reported (also the minor and moderate ones, which pass)
    violations: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        if not self.axe_checked:
            where = self.url.split("?")[0]
            return f"{self.name}: {where} (not ours: no axe check) -> {self.screenshot.name}"
        found = ", ".join(f"{v['id']} ({v['impact']})" for v in self.violations) or "none"
        return f"{self.name}: {self.url} axe violations: {found} -> {self.screenshot.name}"


# Every page check_page looked at in this test session, in order (printed at the end).
CHECKED: list[CheckedPage] = []


async def on_login_form(page: Page) -> bool:
    return not is_ours(page.url) and await page.locator(USERNAME).count() > 0


async def sign_in(page: Page, account: str, password: str = PASSWORD) -> None:
    """Completes the identity provider's login form the page is on, and waits until the
    provider has sent the browser back to one of our services. A page already back on a
    service (the provider remembered the browser: single sign-on) is left as it is."""
    if is_ours(page.url):
        return
    if not await on_login_form(page):
        pytest.fail(f"expected the identity provider's login form, but the page is {page.url}:"
                    f"\n{(await page.locator('body').inner_text())[:500]}")
    await page.locator(USERNAME).fill(account)
    await page.locator(PASSWORD_FIELD).fill(password)
    await page.locator(SUBMIT).click()
    try:
        await page.wait_for_url(is_ours, timeout=15_000)
    except PlaywrightTimeout:  # the provider kept the browser: say what it shows
        pytest.fail(f"signing in as {account} did not return to a service; the page is "
                    f"{page.url}:\n{(await page.locator('body').inner_text())[:500]}")
    await page.wait_for_load_state()
    if await on_login_form(page):
        pytest.fail(f"signing in as {account} came back to the login form (a sign-in loop?)")


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable paragraph per axe violation: rule, impact, help and where."""
    lines = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        targets = [json.dumps(node.get("target")) for node in nodes[:3]]
        more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
        lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']}\n"
                     f"    {violation.get('helpUrl', '')}\n"
                     f"    at: {', '.join(targets)}{more}")
        if nodes and nodes[0].get("html"):
            lines.append(f"    element: {' '.join(nodes[0]['html'].split())[:160]}")
        if nodes and nodes[0].get("failureSummary"):
            summary = nodes[0]["failureSummary"].replace("\n", "\n      ")
            lines.append(f"    first: {summary}")
    return "\n".join(lines)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is not installed ({AXE_SCRIPT} is missing): run bin/setup, or "
                    f"npm ci --prefix tests/browser-tools")
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=AXE_SCRIPT)
    results: dict[str, Any] = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})")
    return list(results["violations"])


async def check_page(page: Page, name: str) -> CheckedPage:
    """Runs axe-core on one of our pages and saves a full-page screenshot to
    docs/screenshots/<name>.png; fails, listing them, on serious or critical violations."""
    await page.wait_for_load_state()
    ours = is_ours(page.url)
    violations = await axe_violations(page) if ours else []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=screenshot, full_page=True)
    checked = CheckedPage(name, page.url, screenshot, ours, violations)
    CHECKED.append(checked)
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(f"axe-core: {len(blocking)} serious or critical violation(s) on {name} "
                    f"({page.url}):\n{describe(blocking)}", pytrace=False)
    return checked


async def page_widths(page: Page) -> tuple[int, int]:
    """The body's scroll width and the viewport's width (a wide table may scroll inside
    its own container, the page itself must not)."""
    scroll_width, inner_width = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    return int(scroll_width), int(inner_width)


# --- helpers for the scenario tests (families, the desk, organisers, the coordinator) ---

POLL_SECONDS = 0.5
# The focused element: does it match `target` (a CSS selector, or the start of its
# label's, aria-label's or own text), and how to name it in a failure.
FOCUSED = """(target) => {
  const el = document.activeElement;
  if (!el || el === document.body) { return {match: false, text: "body"}; }
  let matches = false;
  try { matches = el.matches(target); } catch (error) { matches = false; }
  const clean = (text) => (text || "").replace(/\\s+/g, " ").trim();
  const labels = clean([...(el.labels || [])].map((label) => label.textContent).join(" "));
  const name = labels || clean(el.getAttribute("aria-label")) || clean(el.textContent);
  const wanted = clean(target).toLowerCase();
  matches = matches || (wanted !== "" && name.toLowerCase().startsWith(wanted));
  const id = el.id ? "#" + el.id : "";
  return {match: matches, text: `${el.tagName.toLowerCase()}${id} "${name.slice(0, 60)}"`};
}"""


async def focused(page: Page, target: str = "") -> dict[str, Any]:
    """{"match": bool, "text": "tag#id \"name\""} of the element that has the focus."""
    found: dict[str, Any] = await page.evaluate(FOCUSED, target)
    return found


async def tab_to(page: Page, target: str, limit: int = 60, backwards: bool = False) -> None:
    """Presses Tab (Shift+Tab: `backwards`) until the focused element matches `target`:
    a CSS selector, or the start of its label (or its own text, for a link or button).
    Fails after `limit` presses, listing every element the focus passed."""
    passed = []
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = await focused(page, target)
        if now["match"]:
            return
        passed.append(str(now["text"]))
    pytest.fail(f"{'Shift+Tab' if backwards else 'Tab'} did not reach {target!r} in {limit} "
                f"presses on {page.url}; the focus went:\n  " + "\n  ".join(passed),
                pytrace=False)


async def focus_is_visible(page: Page) -> str:
    """The focused element's outline style ('none' when focus cannot be seen)."""
    style: str = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineWidth === '0px' ? 'none' : s.outlineStyle; })()")
    return style


async def open_as(page: Page, service: str, path: str, account: str) -> None:
    """Opens one of our pages that needs an account, signing in at the identity provider
    (or coming straight back through single sign-on), and checks it arrived there."""
    await page.goto(service_url(service, path))
    await sign_in(page, account)
    arrived = urlsplit(page.url)
    assert (arrived.port, arrived.path) == (E2E_PORTS[service], path), page.url


async def reload_until(page: Page, found: Callable[[], Awaitable[bool]], what: str,
                       seconds: float = 45.0) -> None:
    """Reloads the page until `found()` holds: for what another service must learn first
    (over Kafka) before this page can show it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await found():
        if loop.time() > deadline:
            text = (await page.locator("main").inner_text())[:800]
            pytest.fail(f"not shown within {seconds:.0f}s on {page.url}: {what}\n{text}",
                        pytrace=False)
        await asyncio.sleep(POLL_SECONDS)
        await page.reload()


async def shows(page: Page, text: str) -> bool:
    """True when the page's main content says `text` (any case)."""
    return text.lower() in (await page.locator("main").inner_text()).lower()


def labelled(page: Page, label: str) -> Locator:
    """The form field whose label is exactly `label` (an optional field's label ends in
    " (niet verplicht)")."""
    return page.get_by_label(label, exact=True)


@dataclass(frozen=True)
class Family:
    """A family as it fills in the request form (`/aanvraag`, `/balie/aanvragen/nieuw`):
    unique names, so a search finds only its own request and no other test's child."""

    first_name: str
    last_name: str
    birth_date: date
    start_date: date
    parent_name: str
    email: str | None = None
    postcode: str = "2440"
    municipality: str = "Geel"
    day_parts: tuple[str, ...] = ("maandag voormiddag", "maandag namiddag",
                                  "dinsdag voormiddag", "dinsdag namiddag")


def new_family(start: date, email: bool = True) -> Family:
    """A child of about 7 months at `start`, with names no other test uses."""
    tag = "".join(random.choice(string.ascii_lowercase) for _ in range(6))
    last_name = f"Peeters-{tag.capitalize()}"
    return Family(first_name="Lotte", last_name=last_name, birth_date=start - timedelta(days=200),
                  start_date=start, parent_name=f"Nele {last_name}",
                  email=f"nele.{tag}@example.be" if email else None)


async def fill_request_form(page: Page, family: Family, location_id: str,
                            priority: str | None = None, sworn: bool = True) -> None:
    """Fills in the request form as a family does: the child, the contact, when and which
    day-parts, one ranked choice, a priority fact (`priority`: its label) with the sworn
    statement (`sworn`), and consent to share the contact with the organiser."""
    await labelled(page, "Voornaam van het kind").fill(family.first_name)
    await labelled(page, "Familienaam van het kind").fill(family.last_name)
    await labelled(page, "Geboortedatum van het kind").fill(family.birth_date.isoformat())
    await labelled(page, "Naam van de ouder").fill(family.parent_name)
    if family.email:
        await labelled(page, "E-mailadres (niet verplicht)").fill(family.email)
    await labelled(page, "Postcode").fill(family.postcode)
    await labelled(page, "Gemeente waar het gezin woont").select_option(
        label=family.municipality)
    await labelled(page, "Vanaf welke datum is opvang nodig?").fill(
        family.start_date.isoformat())
    for day_part in family.day_parts:
        await labelled(page, day_part).check()
    await labelled(page, "1e keuze").select_option(location_id)
    if priority:
        await page.get_by_label(priority).check()
    if sworn:
        await page.get_by_label("Ik verklaar op erewoord").check()
    await page.get_by_label("De opvang mag de naam").check()
