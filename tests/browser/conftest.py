"""Browser tests: the demo site served by a real WSGI server, driven through headless Chromium.

One site per test session (a fresh SQLite file with the demo data), one browser, and one
logged-in storage state per demo login, reused by every context that needs that person.
Without Chromium or Playwright the tests are skipped; with ASSEMBLY_REQUIRE_BROWSER=1 or
ASSEMBLY_REQUIRE_SERVICES=1 (as in CI) they fail instead.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.browser.support import DEMO_PASSWORD, Site
from tests.support import skip_or_fail
from tools.demo_server import AXE, DemoServer, chromium_path, launch_chromium

REQUIRE_BROWSER = os.environ.get("ASSEMBLY_REQUIRE_BROWSER") == "1"


def browser_missing(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ASSEMBLY_REQUIRE_BROWSER=1 turns this skip into a failure)")
    skip_or_fail(reason)


@pytest.fixture(scope="session")
def playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("the browser tests need Playwright for Python (pip install -e '.[test]')")
    if chromium_path() is None:
        browser_missing("the browser tests need Chromium at /usr/bin/chromium (apt-get install chromium "
                        "fonts-noto-core) or ASSEMBLY_CHROMIUM naming another Chromium")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    browser = launch_chromium(playwright)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def demo_server(playwright, tmp_path_factory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("browser-site")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def site(demo_server, browser) -> Iterator[Site]:
    site = Site(demo_server, browser, DEMO_PASSWORD)
    yield site
    site.close()


@pytest.fixture
def contexts(site):
    """Opens browser contexts for one test and closes them afterwards: `contexts.new(login=…, lang=…)`."""
    opened = []

    class Opener:
        def new(self, **options):
            context = site.new_context(**options)
            opened.append(context)
            return context

    yield Opener()
    for context in opened:
        with contextlib.suppress(Exception):
            context.close()


@pytest.fixture(scope="session")
def axe_script():
    """node_modules/axe-core/axe.min.js, installed from the npm registry at the version package.json pins."""
    if not AXE.exists():
        browser_missing("axe-core is not installed: run `npm ci --ignore-scripts` (see package.json)")
    return AXE
