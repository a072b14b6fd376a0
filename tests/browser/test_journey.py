"""The whole journey, as separate people in separate browser contexts, in Turkish and in Persian.

A newcomer registers and asks to join; the muhtar approves. The new resident writes a proposal
with a pin on the map; neighbours support it and one comments. The muhtar calls a session with the
proposal on its agenda and a secret ballot, and hides and restores the comment while waiting for
the vote to open; two residents vote, the window closes (the test advances the session with the
closing time as `now`, in the app's process) and one voter checks the receipt; the result says
accepted.
The muhtar forwards the item, the body's staff receive, schedule and decide it, and the author
sees every step on the case page and in the notifications.

The Turkish and the Persian journey run side by side in one test, so that their waits for the
vote to open (whole minutes: the forms take no seconds) overlap.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select

from assembly.accounts.models import User
from assembly.assemblies import voting as assembly_voting
from assembly.assemblies.models import ASSEMBLY_LIFECYCLE, Assembly
from assembly.cases import services as case_services
from assembly.neighbourhoods.models import Body, Category, Neighbourhood
from assembly.notifications.models import Notification
from assembly.proposals.models import PROPOSAL_LIFECYCLE
from assembly.notifications.services import render_notification
from tests.browser.support import (
    AxeAudit,
    goto,
    local_minute,
    log_in,
    next_minute,
    submit,
    typed_when,
    wait_until,
)
from tools.demo_server import AXE



@dataclass(frozen=True)
class Cast:
    lang: str
    slug: str
    muhtar: str
    supporter: str  # supports, comments, votes and checks the receipt
    voter: str  # supports and votes
    third_supporter: str
    staff: str
    body_slug: str
    category: str
    newcomer: str
    address: str
    title: str
    text: str
    comment: str
    hide_reason: str
    restore_reason: str
    session_title: str
    forward_note: str
    decision_note: str


CASTS = {
    "tr": Cast(
        lang="tr", slug="caferaga", muhtar="muhtar.caferaga", supporter="ayse", voter="mehmet",
        third_supporter="zeynep", staff="meclis.staff", body_slug="meclis", category="traffic",
        newcomer="Deniz Yeni", address="Moda Caddesi 48/2",
        title="Moda Caddesi'ne bisiklet yolu",
        text="Moda Caddesi'nde bisikletliler araçlarla aynı şeritte.\n\nKorunaklı bir **bisiklet yolu** öneriyorum.",
        comment="Her sabah bisikletle geçiyorum, çok gerekli.",
        hide_reason="Kişisel bilgi içeriyor, kontrol ediliyor.", restore_reason="Kontrol edildi, sorun yok.",
        session_title="Ocak ayı mahalle meclisi", forward_note="Meclis oylamasında kabul edildi.",
        decision_note="Bisiklet yolu 2027 yatırım programına alındı."),
    "fa": Cast(
        lang="fa", slug="dolatabad", muhtar="shorayar.dolatabad", supporter="reza", voter="narges",
        third_supporter="ali", staff="shahrdari.staff", body_slug="shahrdari", category="lighting",
        newcomer="مهسا تازه‌وارد", address="خیابان فدائیان اسلام، کوچه ۱۴",
        title="روشنایی کوچه Moda ۱۲",
        text="کوچه شب‌ها کاملاً تاریک است.\n\nنصب **چراغ‌های LED** را پیشنهاد می‌کنم.",
        comment="من هم هر شب از این کوچه می‌گذرم؛ واقعاً لازم است.",
        hide_reason="حاوی اطلاعات شخصی است؛ در حال بررسی.", restore_reason="بررسی شد؛ مشکلی ندارد.",
        session_title="نشست شورایاری — دی", forward_note="در نشست محله تصویب شد.",
        decision_note="نصب چراغ‌ها در برنامه سال آینده قرار گرفت."),
}


def _in_app(site, lang: str, fn):
    return site.translate(lang, fn)


def _ids(site, cast: Cast) -> dict:
    with site.database() as session:
        hood = session.scalar(select(Neighbourhood).where(Neighbourhood.slug == cast.slug))
        category = session.scalar(select(Category).where(Category.municipality_id == hood.municipality_id,
                                                         Category.slug == cast.category))
        body = session.scalar(select(Body).where(Body.municipality_id == hood.municipality_id,
                                                 Body.slug == cast.body_slug))
        return {"category": category.id, "body": body.id, "body_kind": body.kind, "zone": hood.municipality.timezone,
                "bounds": (hood.min_latitude, hood.min_longitude, hood.max_latitude, hood.max_longitude)}


def _text(page, selector: str = "main") -> str:
    return page.locator(selector).inner_text()


def test_the_whole_journey_in_turkish_and_in_persian(site, contexts):
    """Both journeys run side by side: while one waits for its vote to open, the other goes on."""
    journeys = {lang: journey(site, contexts, CASTS[lang]) for lang in ("tr", "fa")}
    failures, opening = [], {}
    for lang, steps in journeys.items():
        try:
            opening[lang] = next(steps)  # runs up to the wait for the vote to open
        except Exception as error:  # noqa: BLE001 - reported below, after the other journey ran
            failures.append(_in_journey(lang, error))
    if opening:
        wait_until(max(opening.values()))
    for lang in opening:
        try:
            next(journeys[lang])
        except StopIteration:
            pass
        except Exception as error:  # noqa: BLE001
            failures.append(_in_journey(lang, error))
    if failures:
        raise ExceptionGroup("the journey failed", failures)


def _in_journey(lang: str, error: Exception) -> Exception:
    error.add_note(f"in the {'Turkish' if lang == 'tr' else 'Persian'} journey")
    return error


def journey(site, contexts, cast: Cast):
    """The steps of one journey; yields once, when it waits for the vote to open (the time it opens)."""
    lang = cast.lang
    ids = _ids(site, cast)
    label = {  # texts as the app renders them in this language
        "open": _in_app(site, lang, lambda: PROPOSAL_LIFECYCLE.label("open")),
        "accepted": _in_app(site, lang, lambda: PROPOSAL_LIFECYCLE.label("accepted")),
        "forwarded": _in_app(site, lang, lambda: PROPOSAL_LIFECYCLE.label("forwarded")),
        "announced": _in_app(site, lang, lambda: ASSEMBLY_LIFECYCLE.label("announced")),
        "voting": _in_app(site, lang, lambda: ASSEMBLY_LIFECYCLE.label("voting")),
        "closed": _in_app(site, lang, lambda: ASSEMBLY_LIFECYCLE.label("closed")),
    }
    n = f"/n/{cast.slug}"
    audit = AxeAudit(AXE)  # pages in states the page survey does not reach

    # --- a newcomer registers and asks to join ------------------------------------------------
    newcomer_email = f"newcomer-{lang}@example.org"
    newcomer = contexts.new(lang=lang).new_page()
    goto(newcomer, f"/account/register?lang={lang}")
    assert newcomer.locator("html").get_attribute("lang") == lang
    assert newcomer.locator("#locale").input_value() == lang
    newcomer.fill("#email", newcomer_email)
    newcomer.fill("#display_name", cast.newcomer)
    newcomer.fill("#password", "a-long-newcomer-password")
    newcomer.fill("#confirm", "a-long-newcomer-password")
    submit(newcomer, newcomer.locator("main form button[type=submit]"))
    assert newcomer.locator(".flash-success").count() == 1  # the same answer as for a taken address
    assert "/account/login" in newcomer.url
    log_in(newcomer, newcomer_email, "a-long-newcomer-password")
    assert cast.newcomer in _text(newcomer, "header")

    goto(newcomer, n)
    join = newcomer.locator(f"form[action$='{n}/join']")
    join.locator("#address").fill(cast.address)
    submit(newcomer, join.locator("button[type=submit]"))
    assert newcomer.locator("form[action$='/membership/withdraw']").count() == 1  # waiting for the muhtar

    # --- the muhtar approves ----------------------------------------------------------------------
    muhtar = contexts.new(login=cast.muhtar, lang=lang).new_page()
    goto(muhtar, f"{n}/members")
    request = muhtar.locator("article.request", has_text=cast.newcomer)
    assert cast.address in request.inner_text()
    audit.check(muhtar, "a request to join")
    submit(muhtar, request.locator("form[action$='/approve'] button"))
    assert muhtar.locator("article.request", has_text=cast.newcomer).count() == 0
    assert cast.newcomer in _text(muhtar, "table")

    goto(newcomer, n)
    assert newcomer.locator("form[action$='/membership/leave']").count() == 1  # a verified resident now

    # --- the new resident writes a proposal with a pin on the map --------------------------------
    goto(newcomer, f"{n}/proposals/new")
    newcomer.fill("#title", cast.title)
    newcomer.select_option("#category_id", str(ids["category"]))
    newcomer.fill("#body", cast.text)
    newcomer.fill("#address_text", cast.address)
    assert newcomer.locator("#latitude").input_value() == ""
    newcomer.locator("#map-picker.leaflet-container").click()  # tiles do not load here; the map still works
    latitude = float(newcomer.locator("#latitude").input_value())
    longitude = float(newcomer.locator("#longitude").input_value())
    south, west, north, east = ids["bounds"]
    assert south <= latitude <= north and west <= longitude <= east, (latitude, longitude)
    assert newcomer.locator("#map-picker .leaflet-marker-icon").count() == 1
    audit.check(newcomer, "the proposal form with a pin on the map")
    submit(newcomer, newcomer.locator("main form button[type=submit]"))
    proposal_path = re.search(r"/n/[^/]+/p/\d+$", newcomer.url)[0]
    proposal_id = int(proposal_path.rsplit("/", 1)[1])
    assert newcomer.locator("h1").inner_text() == cast.title
    assert newcomer.locator(".meta .status").first.inner_text() == label["open"]
    assert newcomer.locator("#proposal-map .leaflet-marker-icon").count() == 1
    assert newcomer.locator("p.place .muted").count() == 1  # the coordinates, under the address

    # --- neighbours support it; one of them comments ----------------------------------------------
    supporter = contexts.new(login=cast.supporter, lang=lang).new_page()
    goto(supporter, proposal_path)
    submit(supporter, supporter.locator("form[action$='/support'] button"))
    assert supporter.locator("form[action$='/support'] input[name=withdraw]").count() == 1
    supporter.fill("#new-comment", cast.comment)
    submit(supporter, supporter.locator("form:has(#new-comment) button[type=submit]"))
    comment = supporter.locator("article.comment", has_text=cast.comment)
    assert comment.count() == 1
    comment_id = comment.get_attribute("id").removeprefix("comment-")

    for login in (cast.voter, cast.third_supporter):
        other = contexts.new(login=login, lang=lang).new_page()
        goto(other, proposal_path)
        submit(other, other.locator("form[action$='/support'] button"))
        other.context.close()
    goto(newcomer, proposal_path)
    assert newcomer.locator(".meta .status-ready").count() == 1  # reached the support threshold

    # --- the muhtar calls a session with the proposal on its agenda and announces a secret ballot ---
    goto(muhtar, f"{n}/assemblies/new")
    muhtar.fill("#title", cast.session_title)
    submit(muhtar, muhtar.locator("main form button[type=submit]"))
    session_path = re.search(r"/n/[^/]+/assemblies/\d+$", muhtar.url)[0]
    assembly_id = int(session_path.rsplit("/", 1)[1])
    muhtar.select_option("#proposal_id", str(proposal_id))
    submit(muhtar, muhtar.locator("form[action$='/agenda'] button"))
    assert cast.title in _text(muhtar, "#agenda")

    muhtar.locator("a[href$='/ballot']").click()
    muhtar.wait_for_url(re.compile(r"/ballot$"))
    opens_at = _announce_secret_ballot(muhtar, f"{session_path}/ballot", ids["zone"], lang)
    assert muhtar.locator("main .status").first.inner_text() == label["announced"]

    # --- the muhtar hides the comment and restores it ---------------------------------------------
    goto(muhtar, proposal_path)
    own = muhtar.locator(f"#comment-{comment_id}")
    own.locator("details:has(form[action$='/moderate/hide']) summary").click()
    muhtar.fill(f"#moderate-{comment_id}", cast.hide_reason)
    submit(muhtar, own.locator("form[action$='/moderate/hide'] button"))
    goto(supporter, proposal_path)
    hidden = supporter.locator(f"#comment-{comment_id}")
    assert cast.hide_reason in hidden.locator(".removed").inner_text()
    assert cast.comment not in hidden.inner_text()
    audit.check(supporter, "a hidden comment")

    own = muhtar.locator(f"#comment-{comment_id}")
    own.locator("details:has(form[action$='/moderate/restore']) summary").click()
    muhtar.fill(f"#moderate-{comment_id}", cast.restore_reason)
    submit(muhtar, own.locator("form[action$='/moderate/restore'] button"))
    goto(supporter, proposal_path)
    assert cast.comment in supporter.locator(f"#comment-{comment_id}").inner_text()
    assert supporter.locator(f"#comment-{comment_id} .removed").count() == 0

    yield opens_at  # until voting opens

    # --- two residents vote; the window closes --------------------------------------------------
    goto(muhtar, session_path)
    assert muhtar.locator("main .status").first.inner_text() == label["voting"]
    receipts = {}
    for login in (cast.supporter, cast.voter):
        voter = supporter if login == cast.supporter else contexts.new(login=login, lang=lang).new_page()
        goto(voter, session_path)
        ballot = voter.locator("#vote")
        ballot.locator("input[type=radio][value=yes]").check()
        submit(voter, ballot.locator("button[type=submit]"))
        receipts[login] = voter.locator(".receipt").inner_text().strip()
        assert receipts[login]
        audit.check(voter, "the receipt")
    assert receipts[cast.supporter] != receipts[cast.voter]

    with site.database() as session:  # the clock reaches the end of the window
        assembly = session.get(Assembly, assembly_id)
        assembly_voting.advance(assembly, assembly.ballot.closes_at)

    # --- the result: accepted; a voter finds their receipt in the published ballots ----------------
    goto(supporter, session_path)
    assert supporter.locator("main .status").first.inner_text() == label["closed"]
    results = supporter.locator("#results")
    accepted = _in_app(site, lang, lambda: _gettext("Accepted"))
    assert accepted in results.locator("tbody tr", has_text=cast.title).inner_text()
    supporter.fill("#receipt-check", receipts[cast.supporter])
    submit(supporter, supporter.locator("form:has(#receipt-check) button"))
    counted = _in_app(site, lang, lambda: _gettext("Your ballot is in the published list and was counted."))
    assert supporter.locator("#results .flash-success").inner_text().strip() == counted
    audit.check(supporter, "the results with a checked receipt")

    # --- the muhtar forwards it -------------------------------------------------------------------
    goto(muhtar, proposal_path)
    assert muhtar.locator(".meta .status").first.inner_text() == label["accepted"]
    muhtar.locator("a[href$='/forward']").click()
    muhtar.wait_for_url(re.compile(r"/forward$"))
    assert muhtar.locator("#body_id").input_value() == str(ids["body"])  # the category's default body
    audit.check(muhtar, "forwarding")
    muhtar.fill("#note", cast.forward_note)
    submit(muhtar, muhtar.locator("main form button[type=submit]"))
    reference = muhtar.locator("h1 .reference").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]+-[A-Z0-9]+-\d{4}-\d{4}", reference), reference
    case_path = f"/cases/{reference}"

    # --- the body's staff receive, schedule and decide it -----------------------------------------
    staff = contexts.new(login=cast.staff, lang=lang).new_page()
    goto(staff, "/staff")
    staff.locator(f"a[href$='/staff/bodies/{ids['body']}']").click()
    staff.wait_for_url(re.compile(r"/staff/bodies/\d+$"))
    staff.get_by_role("link", name=reference, exact=True).click()  # the inbox row (the map lists it too)
    staff.wait_for_url(re.compile(re.escape(case_path) + "$"))
    received = staff.locator("form[action$='/events/received']")
    received.locator("textarea").fill("✓")
    submit(staff, received.locator("button"))
    audit.check(staff, "a received case: scheduling and decision forms")
    meeting = local_minute(ids["zone"]).replace(hour=18, minute=30) + dt.timedelta(days=21)
    scheduled = staff.locator("form[action$='/events/scheduled']")
    scheduled.locator("#meeting_at").fill(typed_when(meeting, lang))
    scheduled.locator("#agenda_number").fill("7")
    submit(staff, scheduled.locator("button"))
    decided = staff.locator("form[action$='/events/decided']")
    decided.locator("#decision").select_option("approved")
    decided.locator("#decided-note").fill(cast.decision_note)
    submit(staff, decided.locator("button"))
    assert staff.locator("form[action$='/events/decided']").count() == 0

    # --- the author sees every step on the case page and in the notifications ------------------------
    steps = [("forwarded", None), ("received", None), ("scheduled", None), ("decided", "approved")]
    expected_steps = [_in_app(site, lang, lambda s=s, d=d: case_services.status_label(s, d, ids["body_kind"])) for s, d in steps]
    goto(newcomer, case_path)
    assert newcomer.locator("html").get_attribute("dir") == ("rtl" if lang == "fa" else "ltr")
    shown_steps = [s.strip() for s in newcomer.locator(".events li strong").all_inner_texts()]
    assert shown_steps == expected_steps
    assert cast.decision_note in _text(newcomer, ".events")
    assert cast.title in _text(newcomer, "h1")
    assert newcomer.locator("main .status").first.inner_text() == expected_steps[-1]

    goto(newcomer, proposal_path)
    assert newcomer.locator(".meta .status").first.inner_text() == label["forwarded"]
    assert newcomer.locator(f".cases-panel a[href$='{case_path}']").count() == 1

    goto(newcomer, "/notifications/")
    shown = _text(newcomer, ".notifications")
    kinds, texts = _notifications(site, newcomer_email, lang)
    for text in texts:
        assert text in shown
    for kind in [("membership_approved", None), ("proposal_comment", None), ("proposal_ready", None),
                 ("proposal_status", "on_agenda"), ("proposal_status", "accepted"),
                 ("case_event", "received"), ("case_event", "scheduled"), ("case_event", "decided")]:
        assert kind in kinds, f"no {kind} notification for the author: {kinds}"
    assert reference in shown
    audit.check(newcomer, "the notifications")
    assert not audit.problems, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(audit.problems)


def _announce_secret_ballot(muhtar, ballot_path: str, zone: str, lang: str) -> dt.datetime:
    """Set up a yes/no secret ballot and announce the session; returns when voting opens.

    The form takes whole minutes and a session is announced before its vote opens, so the window
    opens at the next full minute (closing two hours later); if that minute has come by the time
    the announcement arrives, the server refuses it and the next minute is tried.
    """
    for _attempt in range(3):
        if not muhtar.url.endswith(ballot_path):
            goto(muhtar, ballot_path)
        muhtar.select_option("#method", "yes_no")
        muhtar.select_option("#secrecy", "secret")
        opens_at = next_minute(margin_seconds=10)
        opens = local_minute(zone, opens_at)
        muhtar.fill("#opens_at", typed_when(opens, lang))
        muhtar.fill("#closes_at", typed_when(opens + dt.timedelta(hours=2), lang))
        submit(muhtar, muhtar.locator("main form button[type=submit]"))
        with muhtar.expect_navigation() as navigation:
            muhtar.locator("form[action$='/announce'] button").click()
        if navigation.value.status < 400:
            return opens_at
        assert dt.datetime.now(dt.UTC) >= opens_at, muhtar.locator("main").inner_text()  # refused: too late
    raise AssertionError("the session could not be announced before its vote opened")


def _notifications(site, address: str, lang: str) -> tuple[list, list[str]]:
    """(kind, status) of each notification of a person, and its text as the app renders it in `lang`."""
    with site.database() as session:
        user = session.scalar(select(User).where(User.email == address))
        notes = session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
        kinds = [(note.kind, note.params.get("status")) for note in notes]
        texts = [site.translate(lang, lambda note=note: render_notification(note)) for note in notes]
    return kinds, texts


def _gettext(text: str) -> str:
    from flask_babel import gettext

    return gettext(text)
