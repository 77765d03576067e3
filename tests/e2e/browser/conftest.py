"""Browser tests: Playwright (async API, on the session's event loop) driving the
system's Chromium (Debian's `chromium`; Playwright's own download is not used) against
the four services the `system` fixture runs. One headless browser per test session, a
fresh context (cookies, storage) per page a test asks for.

A failed test leaves a screenshot of each of its pages in .cache/browser-failures/."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from tests.e2e.browser.support import CHECKED, DESKTOP, ROOT, NewPage
from tools.processes import ServiceProcess

FAILURES = ROOT / ".cache/browser-failures"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("the browser tests need Chromium, and `chromium` is not on PATH: run "
                    "bin/setup (or apt-get install chromium)", pytrace=False)
    playwright = await async_playwright().start()
    try:
        # --no-sandbox: Chromium's sandbox refuses to run as root (containers, CI)
        browser = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"], headless=True)
        yield browser
        await browser.close()
    finally:
        await playwright.stop()


@pytest.fixture
async def new_page(
    browser: Browser, system: dict[str, ServiceProcess], request: pytest.FixtureRequest
) -> AsyncIterator[NewPage]:
    """Makes a page in a fresh browser context (no cookies): `await new_page()` for a
    desktop screen, `await new_page(PHONE)` for a phone's."""
    contexts: list[BrowserContext] = []

    async def make(viewport: ViewportSize = DESKTOP) -> Page:
        context = await browser.new_context(viewport=viewport, locale="nl-BE",
                                            timezone_id="Europe/Brussels")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return await context.new_page()

    yield make
    report = getattr(request.node, "rep_call", None)
    for number, context in enumerate(contexts):
        if report is not None and report.failed:
            await keep_failure(context, request.node.name, number)
        await context.close()


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    """A page in a fresh desktop-sized browser context."""
    return await new_page()


async def keep_failure(context: BrowserContext, test_name: str, number: int) -> None:
    FAILURES.mkdir(parents=True, exist_ok=True)
    for index, page in enumerate(context.pages):
        name = re.sub(r"[^\w.-]+", "_", f"{test_name}-{number}-{index}")
        try:
            await page.screenshot(path=FAILURES / f"{name}.png", full_page=True)
        except Exception as error:  # a crashed page: the test's own error says more
            print(f"no failure screenshot of {page.url}: {error}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CHECKED:
        terminalreporter.section("pages checked in the browser (axe-core, screenshots)")
        for checked in CHECKED:
            terminalreporter.line(checked.summary())
        where = Path(CHECKED[0].screenshot).parent.relative_to(ROOT)
        terminalreporter.line(f"screenshots in {where}/")
