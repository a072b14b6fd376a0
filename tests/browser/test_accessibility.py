"""axe-core finds no violation of the WCAG 2.1 A and AA rules on the main pages,
in every language, logged out and logged in as each role."""
from __future__ import annotations

import pytest

from tests.browser.pages import NEIGHBOURHOOD, PEOPLE, ROLES, expected_language, expected_status, page_sets
from tests.browser.support import format_violations, goto, run_axe, submit


@pytest.fixture(scope="module")
def pages(site):
    return page_sets(site)


@pytest.mark.parametrize("lang", list(NEIGHBOURHOOD))
@pytest.mark.parametrize("role", ROLES)
def test_no_wcag_violations(site, contexts, pages, axe_script, role, lang):
    page_set = pages[(role, lang)]
    context = contexts.new(login=page_set.login, lang=lang)
    context.add_init_script(path=str(axe_script))  # in every page from the start, without sending it each time
    page = context.new_page()
    problems = []
    for name, path in page_set.paths:
        goto(page, path, expected_status(name))
        language = expected_language(name, lang)
        assert page.locator("html").get_attribute("lang") == language, f"{path} is not in {language}"
        violations = run_axe(page)
        if violations:
            problems.append(format_violations(f"{name} ({path}, {lang}, {role})", violations))
    assert not problems, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_forms_showing_errors_have_no_wcag_violations(site, contexts, axe_script, lang):
    """The same forms once they carry error messages (aria-invalid, aria-describedby, flashes)."""
    slug = NEIGHBOURHOOD[lang]
    forms = [  # (who, page, what to fill in, the button)
        (None, "/account/login", {"#email": "nobody@assembly.example", "#password": "wrong password"}),
        (None, "/account/register", {"#email": "not an address", "#password": "short"}),
        (PEOPLE["resident"][lang], f"/n/{slug}/proposals/new", {"#latitude": "95"}),
        (PEOPLE["muhtar"][lang], f"/n/{slug}/assemblies/new", {"#online_link": "ftp://example.org"}),
    ]
    problems = []
    for login, path, values in forms:
        context = contexts.new(login=login, lang=lang)
        context.add_init_script(path=str(axe_script))
        page = context.new_page()
        goto(page, path)
        for selector, value in values.items():
            page.fill(selector, value)
        submit(page, page.locator("main form.form button[type=submit]").last, status=400)
        assert page.locator(".errors, .flash-error").count() > 0, f"{path}: no error shown"
        violations = run_axe(page)
        if violations:
            problems.append(format_violations(f"{path} with errors ({lang})", violations))
        context.close()
    assert not problems, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(problems)
