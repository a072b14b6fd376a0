"""Helpers of the browser tests: the site, logged-in contexts, form submission, axe, translations."""
from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask_babel import force_locale

from assembly.db import db
from assembly.demo import DEMO_DOMAIN, DEMO_PASSWORD

__all__ = [
    "DEMO_PASSWORD",
    "AxeAudit",
    "Site",
    "email",
    "format_violations",
    "goto",
    "local_minute",
    "log_in",
    "next_minute",
    "run_axe",
    "submit",
    "typed_when",
    "wait_until",
]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def email(login: str) -> str:
    return f"{login}@{DEMO_DOMAIN}"


class Site:
    """The demo site and the browser that visits it."""

    def __init__(self, server, browser, password: str) -> None:
        self.server = server
        self.app = server.app
        self.url = server.url
        self.browser = browser
        self.password = password
        self._states: dict[str, dict] = {}  # login → cookies of a logged-in browser

    def close(self) -> None:
        self._states.clear()

    # --- contexts -------------------------------------------------------------------------------

    def new_context(self, *, login: str | None = None, lang: str | None = None, javascript: bool = True,
                    viewport: dict | None = None, password: str | None = None, **options):
        """A fresh browser context, logged in as `login` (a demo login or an e-mail) when given.

        With `lang`, the first request switches the interface language (and, when logged in,
        the person's language setting), as a visitor clicking the language switcher would.
        """
        state = self.storage_state(login, password) if login else None
        context = self.browser.new_context(
            base_url=self.url, storage_state=state, java_script_enabled=javascript,
            viewport=viewport or {"width": 1280, "height": 900}, locale="en-GB", **options)
        context.set_default_timeout(15_000)
        if lang:
            page = context.new_page()
            goto(page, f"/?lang={lang}")
            page.close()
        return context

    def storage_state(self, login: str, password: str | None = None) -> dict:
        """Logged in once per person and test session; later contexts reuse the cookies."""
        if login not in self._states:
            context = self.browser.new_context(base_url=self.url)
            page = context.new_page()
            log_in(page, login, password or self.password)
            self._states[login] = context.storage_state()
            context.close()
        return self._states[login]

    # --- the app in this process ----------------------------------------------------------------

    @contextlib.contextmanager
    def database(self) -> Iterator[Any]:
        """An app context whose session is committed at the end (for set-up the UI cannot do)."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.close()

    def translate(self, lang: str, make_text: Callable[[], str]) -> str:
        """A text as the app renders it in `lang` (e.g. a status label or a notification)."""
        with self.app.test_request_context(), force_locale(lang):
            return str(make_text())


def log_in(page, login: str, password: str) -> None:
    address = login if "@" in login else email(login)
    goto(page, "/account/login")
    page.fill("#email", address)
    page.fill("#password", password)
    submit(page, page.locator("main form button[type=submit]"))
    assert "/account/login" not in page.url, f"could not log in as {address}"


def goto(page, path: str, status: int = 200):
    response = page.goto(path)
    assert response is not None and response.status == status, (
        f"GET {path}: {response.status if response else 'no response'}, expected {status}")
    return response


def submit(page, button, status: int | None = None):
    """Click a submit button and wait for the page it leads to; returns its response."""
    with page.expect_navigation(wait_until="load") as navigation:
        button.click()
    response = navigation.value
    if status is not None:
        assert response is not None and response.status == status, (
            f"{page.url}: {response.status if response else 'no response'}, expected {status}")
    elif response is not None:
        assert response.status < 400, f"{page.url}: {response.status}\n{page.locator('main').inner_text()}"
    return response


def next_minute(margin_seconds: float) -> dt.datetime:
    """The next full minute (UTC) that is at least `margin_seconds` away."""
    now = dt.datetime.now(dt.UTC)
    boundary = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    if (boundary - now).total_seconds() < margin_seconds:
        boundary += dt.timedelta(minutes=1)
    return boundary


def wait_until(moment: dt.datetime) -> None:
    """Real waiting, for a server that reads the real clock."""
    remaining = (moment - dt.datetime.now(dt.UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining + 0.2)


def local_minute(zone: str, now: dt.datetime | None = None) -> dt.datetime:
    """The current wall-clock minute in a time zone, as a datetime-local field takes it."""
    from zoneinfo import ZoneInfo

    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)


def typed_when(moment: dt.datetime, lang: str) -> str:
    """A wall-clock time as a person types it into a date field in `lang`: Solar Hijri with
    Persian digits in Persian (as the field's hint shows), the datetime-local form otherwise."""
    from assembly.i18n import wall_clock_text

    return wall_clock_text(moment, lang)


# --- axe ---------------------------------------------------------------------------------------

def run_axe(page, axe_source: str | None = None) -> list[dict]:
    """Violations of the WCAG 2.1 A and AA rules on the page as it is now.

    axe is best injected once per context with `context.add_init_script(path=AXE)`; otherwise its
    source is evaluated here. Both go through the DevTools protocol, so the page's CSP stays on.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        assert axe_source, "axe-core is not in the page"
        page.evaluate(axe_source)
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))}));
        }""",
        WCAG_TAGS,
    )
    return result + duplicate_ids(page)


class AxeAudit:
    """axe on pages met along the way (receipts, results, forms in a given state); a no-op without axe."""

    def __init__(self, path) -> None:
        self.source = path.read_text(encoding="utf-8") if path.exists() else None
        self.problems: list[str] = []

    def check(self, page, where: str) -> None:
        if self.source is None:
            return
        violations = run_axe(page, self.source)
        if violations:
            self.problems.append(format_violations(f"{where} ({page.url})", violations))


def duplicate_ids(page) -> list[dict]:
    """WCAG 2.1 success criterion 4.1.1: ids are unique (axe no longer checks it).

    Hidden inputs are left out: nothing refers to them and assistive technology never sees them
    (every CSRF token is `id="csrf_token"`). A repeated id on anything else breaks `label for`
    and ARIA references, which then name the first element only.
    """
    nodes = page.evaluate(
        """() => {
            const seen = {};
            for (const el of document.querySelectorAll('[id]')) {
                if (el.matches('input[type=hidden]')) continue;
                (seen[el.id] = seen[el.id] || []).push(el.outerHTML.slice(0, 200));
            }
            return Object.entries(seen).filter(([id, els]) => els.length > 1)
                .map(([id, els]) => ({target: '#' + id, html: els.join(' | '), summary: els.length + ' elements'}));
        }"""
    )
    if not nodes:
        return []
    return [{"id": "duplicate-id", "impact": "serious", "help": "ids must be unique (WCAG 2.1 SC 4.1.1)",
             "helpUrl": "https://www.w3.org/TR/WCAG21/#parsing", "nodes": nodes}]


def format_violations(where: str, violations: list[dict]) -> str:
    lines = [f"{where}:"]
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"      {node['target']}: {node['html']}")
            summary = (node["summary"] or "").replace("\n", " / ")
            lines.append(f"        {summary[:400]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"      … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)

