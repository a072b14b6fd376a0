"""The screenshot tour: the main screens in the four languages, into docs/screenshots/.

    make screenshots                    # or: .venv/bin/python -m tools.screenshots [--lang fa] [--out DIR]

Starts the demo site the way the browser tests do (a fresh SQLite database with the demo data,
served on 127.0.0.1), logs in as the person each screen is for and saves <screen>-<lang>.png at
1280×900 (phone screens at 375×812, the whole page). `--only NAME` takes just that screen. Needs Chromium (/usr/bin/chromium, or ASSEMBLY_CHROMIUM) and Playwright.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from tools.demo_server import DemoServer, chromium_path, launch_chromium

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
LANGUAGES = ("en", "tr", "fa", "sv")
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Screens taken at phone size (a muhtar at the door with a phone), as <screen>-<lang>.png too.
PHONE_SCREENS = {"desk-phone"}
PASSWORD = "demo-assembly-2026"

# Each language shows the neighbourhood that speaks it, seen by its own people.
NEIGHBOURHOOD = {"en": "caferaga", "tr": "caferaga", "fa": "dolatabad", "sv": "jarntorget"}
RESIDENT = {"en": "ayse", "tr": "ayse", "fa": "reza", "sv": "amina"}
MUHTAR = {"en": "muhtar.caferaga", "tr": "muhtar.caferaga", "fa": "shorayar.dolatabad",
          "sv": "samordnare.jarntorget"}
STAFF = {"en": "meclis.staff", "tr": "meclis.staff", "fa": "kalantari.staff", "sv": "polisen.staff"}


def screens(server, lang: str) -> list[tuple[str, str | None, str, str | None]]:
    """(screen name, who is logged in, path, element to scroll to) for one language."""
    from assembly.accounts.models import User
    from assembly.assemblies.models import Assembly
    from assembly.cases.models import Case
    from assembly.db import db
    from assembly.meetings.models import MeetingNeighbourhood
    from assembly.neighbourhoods.models import Body, BodyStaff, Neighbourhood
    from assembly.promises.models import PromiseNeighbourhood
    from assembly.proposals.models import Proposal
    from assembly.surveys.models import Survey, SurveyNeighbourhood

    slug = NEIGHBOURHOOD[lang]
    with server.app.app_context():
        hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == slug))
        discussed = db.session.scalars(select(Proposal).where(Proposal.neighbourhood_id == hood.id)
                                       .order_by(Proposal.comment_count.desc(), Proposal.id)).first()
        sessions = {a.status: a.id for a in db.session.scalars(
            select(Assembly).where(Assembly.neighbourhood_id == hood.id).order_by(Assembly.id))}
        closed = sessions.get("minuted") or sessions.get("closed")
        case = db.session.scalars(select(Case).where(Case.neighbourhood_id == hood.id)
                                  .order_by(Case.event_count.desc())).first()
        staff = db.session.scalar(select(User).where(User.email.like(f"{STAFF[lang]}@%")))
        body = db.session.scalar(select(Body.id).join(BodyStaff, BodyStaff.body_id == Body.id)
                                 .where(BodyStaff.user_id == staff.id))
        # The accountability pages, where the demo has them for this neighbourhood.
        meeting = db.session.scalar(select(MeetingNeighbourhood.meeting_id).where(
            MeetingNeighbourhood.neighbourhood_id == hood.id).order_by(MeetingNeighbourhood.meeting_id).limit(1))
        survey = db.session.scalar(select(Survey.id).join(SurveyNeighbourhood).where(
            SurveyNeighbourhood.neighbourhood_id == hood.id, Survey.status == "closed").order_by(Survey.id.desc())
            .limit(1))
        promise = db.session.scalar(select(PromiseNeighbourhood.promise_id).where(
            PromiseNeighbourhood.neighbourhood_id == hood.id).order_by(PromiseNeighbourhood.promise_id).limit(1))
    extra = []
    if meeting:
        extra.append(("meeting", None, f"/meetings/{meeting}", None))
    if survey:
        extra.append(("survey-results", None, f"/n/{slug}/surveys/{survey}/results", None))
    if promise:
        extra += [("promise", None, f"/promises/{promise}", None),
                  ("booklet", None, f"/promises/{promise}/booklet", None)]
    return extra + [
        ("neighbourhoods", None, "/", None),
        ("proposals", RESIDENT[lang], f"/n/{slug}/proposals", None),
        ("proposal", RESIDENT[lang], f"/n/{slug}/p/{discussed.id}", None),
        ("vote", RESIDENT[lang], f"/n/{slug}/assemblies/{sessions['voting']}", "#vote"),
        ("results", None, f"/n/{slug}/assemblies/{closed}", "#results"),
        ("count-check", None, f"/n/{slug}/assemblies/{closed}/check", None),
        ("session-dates", MUHTAR[lang], f"/n/{slug}/assemblies/new", None),
        ("case", None, f"/cases/{case.reference}", None),
        ("forwarding-letter", None, f"/cases/{case.reference}/letter", None),
        ("requests", MUHTAR[lang], f"/n/{slug}/members", None),
        ("inbox", STAFF[lang], f"/staff/bodies/{body}", None),
        ("desk-phone", MUHTAR[lang], "/muhtar", None),
    ]


def log_in(browser, url: str, login: str) -> dict:
    context = browser.new_context(base_url=url)
    page = context.new_page()
    page.goto("/account/login")
    page.fill("#email", f"{login}@assembly.example")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    state = context.storage_state()
    context.close()
    return state


def take(server, browser, lang: str, out: Path, states: dict, only: set[str] | None = None) -> list[Path]:
    saved = []
    for name, login, path, anchor in screens(server, lang):
        if only and name not in only:
            continue
        if login and login not in states:
            states[login] = log_in(browser, server.url, login)
        phone = name in PHONE_SCREENS
        context = browser.new_context(base_url=server.url, viewport=PHONE if phone else VIEWPORT,
                                      storage_state=states.get(login), locale="en-GB", is_mobile=phone,
                                      has_touch=phone)
        page = context.new_page()
        page.goto(f"/?lang={lang}")  # the language switcher: remembered for this person
        response = page.goto(path)
        if response is None or response.status != 200:
            raise RuntimeError(f"{path} ({lang}): {response.status if response else 'no response'}")
        if anchor:
            page.locator(anchor).scroll_into_view_if_needed()
            page.evaluate("(sel) => document.querySelector(sel).scrollIntoView({block: 'start'})", anchor)
        page.wait_for_timeout(200)  # let the map settle
        target = out / f"{name}-{lang}.png"
        page.screenshot(path=str(target), animations="disabled", caret="hide", full_page=phone)
        saved.append(target)
        context.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", action="append", choices=LANGUAGES, help="only these languages")
    parser.add_argument("--only", action="append", help="only these screens (e.g. --only desk-phone)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"directory (default: {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Playwright is missing: .venv/bin/pip install -e '.[test]'", file=sys.stderr)
        return 2
    if chromium_path() is None:
        print("Chromium is missing: apt-get install chromium fonts-noto-core (or set ASSEMBLY_CHROMIUM)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="assembly-screenshots-") as directory:
        server = DemoServer(Path(directory)).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                states: dict = {}
                for lang in args.lang or LANGUAGES:
                    for path in take(server, browser, lang, args.out, states, set(args.only or ())):
                        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
                              f"  {path.stat().st_size // 1024} KiB")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
