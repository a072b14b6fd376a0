"""Hostile text in every user text field of the proposals module comes back escaped (or
sanitised, for Markdown) in every page and in the Atom feed.

The corpus goes in through the same forms a browser uses (titles, descriptions, places,
comments, replies, reports, moderation reasons) and through the services for the fields
that have no form (display names, the reason for withdrawing). The pages are then parsed:
no element, attribute or URL may come from the corpus, and no raw hostile string, bidi
override or control character may appear in the response.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from markupsafe import escape
from sqlalchemy import select

from assembly.accounts.services import update_profile
from assembly.db import db
from assembly.proposals import services
from assembly.proposals.models import Comment, Proposal
from tests import factories
from tests import proposal_factories as pf
from tests.support import login

ATOM = "{http://www.w3.org/2005/Atom}"

HOSTILE = [
    '<script>alert("s1")</script>',
    "<img src=x onerror=alert('s2')>",
    '"><svg onload=alert("s3")>',
    "'><iframe src=javascript:alert('s4')></iframe>",
    '[click me](javascript:alert("s5"))',
    '<a href="javascript:alert(\'s6\')">a link</a>',
    '[tab](jav\tascript:alert("s7")) [case](JaVaScRiPt:alert("s7b"))',
    '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '<scr<script>ipt>alert("s8")</scr</script>ipt>',
    '<<b>b>broken <i <a href="x',
    '</textarea><script>alert("s9")</script>',
    '</title><script>alert("s10")</script>',
    ']]><script>alert("s11")</script><![CDATA[',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert("s12")>',
    '&lt;script&gt;alert("s13")&lt;/script&gt; &#60;b&#62;',
    '<https://example.org/" onmouseover="alert(\'s14\')>',
    '[title](https://example.org "\\" onmouseover=\\"alert(1)")',
    'fdp.exe\u202egnp.exe \u2066isolate\u2069 \u202bembed\u202c',
    'bell\x07 escape\x1b vertical\x0b formfeed\x0c nul\x00 end',
]

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DANGEROUS_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "img", "style",
                  "base", "mglyph", "applet", "audio", "video", "source", "template"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if not (attributes.get("src") or "").startswith("/static/"):
                self.problems.append(f"inline script: {attrs}")
        elif tag == "meta":
            if set(attributes) - {"charset", "name", "content"}:
                self.problems.append(f"meta: {attrs}")
        elif tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def assert_safe_html(html: str, where: str, own_input: bool = False) -> None:
    """`own_input`: a refused form shows the writer exactly what they typed (escaped), bidi
    and control characters included; only what was stored must have lost them."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    assert inspector.problems == [], f"{where}: {inspector.problems}"
    if not own_input:
        assert not BIDI_CONTROLS.search(html), f"{where}: bidi control character"
        assert not CONTROL_CHARACTERS.search(html), f"{where}: control character"
    for payload in HOSTILE:
        if "<" in payload:
            raw = payload.strip()
            assert raw not in html, f"{where}: unescaped {raw!r}"


def _title(i: int, payload: str) -> str:
    return f"T{i} {payload}"[:200]


def _name(i: int) -> str:
    return f"N{i} {HOSTILE[i % len(HOSTILE)]}"[:80]


def _client(app, email):
    client = app.test_client()
    login(client, email)
    return client


@pytest.fixture
def hostile_site(app):
    """Every hostile string in every user text field; returns the clients and the pages to read."""
    with app.app_context():
        w = pf.world(slug="moda")
        # Names change through the account settings' service, as the settings page does.
        update_profile(w.author, _name(0), "en")
        update_profile(w.muhtar, _name(len(HOSTILE) - 1), "en")
        commenter = factories.resident(w.hood, factories.user(name=_name(1)))
        reporter = factories.resident(w.hood, factories.user(name=_name(2)))
        ids = {"category": w.category.id}
        emails = {"author": w.author.email, "muhtar": w.muhtar.email, "commenter": commenter.email,
                  "reporter": reporter.email}
        db.session.commit()

    clients = {who: _client(app, email) for who, email in emails.items()}
    inside = {"latitude": str(pf.INSIDE[0]), "longitude": str(pf.INSIDE[1])}
    pages = ["/n/moda/proposals", "/n/moda/proposals?sort=discussed", "/n/moda/moderation"]
    for i, payload in enumerate(HOSTILE):
        form = {"title": _title(i, payload), "body": payload, "category_id": str(ids["category"]),
                "address_text": payload[:200], **inside}
        # A refused form shows what was typed again.
        refused = clients["author"].post("/n/moda/proposals/new", data={**form, "latitude": "41.5"})
        assert refused.status_code == 400
        assert_safe_html(refused.get_data(as_text=True), f"refused form {i}", own_input=True)

        created = clients["author"].post("/n/moda/proposals/new", data=form)
        assert created.status_code == 302, created.get_data(as_text=True)
        url = created.headers["Location"].replace("http://localhost", "")
        # An edit keeps the first text as a public previous version.
        assert clients["author"].post(url + "/edit", data={**form, "body": payload + " (edited)"}).status_code == 302
        assert clients["commenter"].post(url + "/comments", data={"body": payload}).status_code == 302
        with app.app_context():
            proposal_id = int(url.rsplit("/", 1)[1])
            top = db.session.scalar(select(Comment.id).where(Comment.proposal_id == proposal_id))
        clients["author"].post(url + "/comments", data={"body": payload, "parent_id": str(top)})
        assert clients["reporter"].post(url + "/report", data={"reason": payload}).status_code == 302
        assert clients["reporter"].post(url + f"/comments/{top}/report",
                                        data={"reason": payload}).status_code == 302
        assert clients["muhtar"].post(url + f"/comments/{top}/moderate/hide",
                                      data={"reason": payload}).status_code == 302
        again = clients["commenter"].post(url + "/comments", data={"body": payload + "x" * 5000})
        assert again.status_code == 400
        assert_safe_html(again.get_data(as_text=True), f"refused comment {i}", own_input=True)

        gone = clients["author"].post("/n/moda/proposals/new", data={**form, "title": _title(i, "gone " + payload)})
        gone_url = gone.headers["Location"].replace("http://localhost", "")
        with app.app_context():
            proposal = db.session.get(Proposal, int(gone_url.rsplit("/", 1)[1]))
            services.withdraw_proposal(proposal.author, pf.factories.now(), proposal, reason=payload)
            db.session.commit()
        assert clients["muhtar"].post(gone_url + "/moderate/hide", data={"reason": payload}).status_code == 302

        pages += [url, gone_url, url + "/edit", f"{url}/comments/{top}/edit",
                  "/n/moda/proposals?" + urlencode({"q": payload})]
    return {"clients": clients, "pages": pages}


def test_hostile_text_comes_back_escaped_in_every_page(app, hostile_site):
    clients = hostile_site["clients"]
    readers = [app.test_client(), clients["author"], clients["muhtar"], clients["commenter"]]
    seen = 0
    for page in hostile_site["pages"]:
        for reader in readers:
            response = reader.get(page)
            if response.status_code in (302, 403, 404):  # someone else's edit page, or not logged in
                continue
            assert response.status_code == 200, page
            assert_safe_html(response.get_data(as_text=True), page)
            seen += 1
    for page, reader in (("/n/moda/reports", clients["muhtar"]), ("/notifications/", clients["author"]),
                         ("/notifications/", clients["commenter"])):
        response = reader.get(page)
        assert response.status_code == 200
        assert_safe_html(response.get_data(as_text=True), page)
    assert seen > len(hostile_site["pages"])


def test_the_stored_text_is_on_the_pages_escaped_not_dropped(app, hostile_site):
    """Guards the test above against passing because nothing was shown."""
    with app.app_context():
        proposals = list(db.session.scalars(select(Proposal).where(Proposal.status == "open")
                                            .order_by(Proposal.id)))
        titles = {p.id: p.title for p in proposals}
        reporter = db.session.scalar(select(pf.User.display_name).where(pf.User.display_name.like("N2 %")))
    assert len(titles) == len(HOSTILE)
    reader = app.test_client()
    for proposal_id, title in titles.items():
        html = reader.get(f"/n/moda/p/{proposal_id}").get_data(as_text=True)
        assert str(escape(title)) in html
    queue = hostile_site["clients"]["muhtar"].get("/n/moda/reports").get_data(as_text=True)
    assert str(escape(reporter)) in queue


def test_the_feed_is_well_formed_and_its_html_is_sanitised(app, hostile_site):
    response = app.test_client().get("/n/moda/feed.atom")
    xml = response.get_data(as_text=True)
    assert not BIDI_CONTROLS.search(xml) and not CONTROL_CHARACTERS.search(xml)
    for payload in HOSTILE:
        if "<" in payload:
            assert payload.strip() not in xml
    root = ET.fromstring(response.data)
    entries = list(root.iter(f"{ATOM}entry"))
    assert len(entries) == len(HOSTILE)  # the withdrawn-and-hidden ones are not in the feed
    for entry in entries:
        assert entry.findtext(f"{ATOM}title").startswith("T")
        content = entry.find(f"{ATOM}content")
        assert content.get("type") == "html"
        assert_safe_html(content.text or "", "feed entry content")
        assert entry.find(f"{ATOM}author").findtext(f"{ATOM}name").startswith("N0 ")


def test_markdown_links_keep_only_safe_schemes(ctx):
    from assembly.text import render_markdown

    html = render_markdown('[ok](https://example.org) [mail](mailto:a@example.org) [bad](javascript:alert(1)) '
                           '[worse](vbscript:msgbox(1)) <a href="https://example.org" onclick="x()">raw</a>')
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer ugc">ok</a>' in html
    assert '<a href="mailto:a@example.org" rel="nofollow noopener noreferrer ugc">mail</a>' in html
    assert html.count("<a ") == 2
    assert "&lt;a href" in html  # raw HTML is shown as text, not interpreted
    assert_safe_html(html, "markdown")
