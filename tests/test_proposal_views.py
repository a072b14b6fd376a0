"""Proposal pages through the test client: routing, 403/404, forms, the moderation log,
the Atom feed, notifications in the reader's language and SQL statements per page."""
from __future__ import annotations

import contextlib
import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import func, select

from assembly.db import db
from assembly.extensions import babel
from assembly.notifications.models import OutboxEmail
from assembly.proposals import discussion, moderation, services
from assembly.proposals.models import Comment, ModerationAction, Proposal, Support
from tests import factories
from tests import proposal_factories as pf
from tests.support import counting_statements, login
from tests.support import text

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


@contextlib.contextmanager
def committed(app):
    """Set up data in an app context of its own and commit it, as a request would."""
    with app.app_context():
        yield
        db.session.commit()


@pytest.fixture
def client(app):
    """A visitor reading English (the test neighbourhoods' own language is Turkish)."""
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return visitor


def client_of(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


@pytest.fixture
def site(app):
    """A neighbourhood with a published and a draft proposal; ids and e-mails only."""
    with committed(app):
        w = pf.world(slug="moda")
        neighbour = factories.resident(w.hood)
        outsider = factories.resident(factories.neighbourhood(slug="osmanaga"))
        other_muhtar = factories.muhtar(factories.neighbourhood(slug="sizdah-aban"))
        open_ = pf.proposal(w, title="Lamps in the park", body="It is **dark**.", now=T0)
        draft = pf.proposal(w, title="Secret draft", publish=False)
        ids = {"hood": w.hood.id, "category": w.category.id, "open": open_.id, "draft": draft.id}
        people = {"author": w.author, "neighbour": neighbour, "outsider": outsider, "muhtar": w.muhtar,
                  "other_muhtar": other_muhtar}
    return {"ids": ids, "people": people, "url": f"/n/moda/p/{open_.id}", "draft_url": f"/n/moda/p/{draft.id}"}


def _get(app, model, object_id):
    with app.app_context():
        return db.session.get(model, object_id)


# --- reading -------------------------------------------------------------------------------

def test_the_list_and_the_proposal_page(app, client, site):
    page = client.get("/n/moda/proposals")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lamps in the park" in html and "Secret draft" not in html
    shown = client.get(site["url"])
    assert shown.status_code == 200
    assert "<strong>dark</strong>" in shown.get_data(as_text=True)
    assert client.get("/n/moda/p/999999").status_code == 404
    assert client.get(f"/n/osmanaga/p/{site['ids']['open']}").status_code == 404  # wrong neighbourhood
    assert client.get("/n/nowhere/proposals").status_code == 404


def test_drafts_are_404_for_everyone_but_their_author(app, client, site):
    assert client.get(site["draft_url"]).status_code == 404
    for who in ("neighbour", "muhtar", "outsider"):
        assert client_of(app, site["people"][who]).get(site["draft_url"]).status_code == 404
    author = client_of(app, site["people"]["author"])
    assert author.get(site["draft_url"]).status_code == 200
    mine = author.get("/n/moda/proposals?mine=y").get_data(as_text=True)
    assert "Secret draft" in mine
    assert "Secret draft" not in client_of(app, site["people"]["neighbour"]).get(
        "/n/moda/proposals?mine=y&status=draft").get_data(as_text=True)


def test_list_query_arguments_filter_and_sort(app, client, site):
    with committed(app):
        hood = db.session.get(pf.Neighbourhood, site["ids"]["hood"])
        other = pf.category(hood, slug="trees")
        services.create_proposal(site["people"]["author"], T0 + dt.timedelta(hours=1), hood,
                                 pf.data(other, title="Plant plane trees"))
    html = client.get(f"/n/moda/proposals?category={other.id}").get_data(as_text=True)
    assert "Plant plane trees" in html and "Lamps in the park" not in html
    html = client.get("/n/moda/proposals?q=PLANE").get_data(as_text=True)
    assert "Plant plane trees" in html and "Lamps in the park" not in html
    html = client.get("/n/moda/proposals?sort=newest&page=").get_data(as_text=True)
    assert html.index("Plant plane trees") < html.index("Lamps in the park")
    refused = client.get("/n/moda/proposals?sort=newest&page=abc")
    assert refused.status_code == 400
    assert "page must be a whole number from 1 to 1,000,000." in text(refused)


_FILTER_FIELDS = ('{% from "_macros/forms.html" import field %}{{ field(form.q, dir_auto=True) }}'
                  "{{ field(form.category) }}{{ field(form.status) }}{{ field(form.sort) }}"
                  "{{ field(form.supported) }}{{ field(form.followed) }}{{ field(form.ready) }}{{ field(form.mine) }}")


_PLAIN_QUERIES = [
    "", "q=park", "q=%20%3Cb%3E%22Lamps%22+%26+%27trees%27%3C%2Fb%3E%20", "q=" + "x" * 200, "category=0",
    "category={category}", "status=", "status=open", "status=hidden", "sort=supported", "sort=relevant&q=park",
    "supported=y", "followed=on&ready=false&mine=", "mine=%22x%22&supported=1", "q=a&q=b&sort=newest&sort=zzz",
    "lang=fa&category={category}&status=withdrawn&sort=discussed&ready=y",
]
# Refused by the form (or not plainly one of the choices): shown by the form itself, with its message.
_CHECKED_QUERIES = ["q=" + "x" * 201, "category=abc", "category=", "category=01", "category=999999", "status=bogus",
                    "sort=", "sort=zzz", "status=draft&sort=%3Cscript%3E"]


@pytest.mark.parametrize("query", _PLAIN_QUERIES + _CHECKED_QUERIES)
@pytest.mark.parametrize("locale", ["en", "fa"])
def test_the_list_filters_shown_from_plain_values_are_the_forms_own(app, site, query, locale):
    """The filter form written from the query's plain values (`ShownFilters`) is byte for byte the
    WTForms form's, with the same data; a query the form refuses is shown by the form itself."""
    from flask import request
    from flask_babel import refresh

    from assembly.proposals.forms import FilterForm, ShownFilters, filter_form
    from assembly.proposals.models import PROPOSAL_LIFECYCLE

    plain = query in _PLAIN_QUERIES
    query = query.format(category=site["ids"]["category"])
    with app.test_request_context(f"/n/moda/proposals?{query}", headers={"Accept-Language": locale}):
        refresh()
        categories = [(0, "All categories"), (site["ids"]["category"], "Roads & <pavements>")]
        statuses = [("", "All current"), *PROPOSAL_LIFECYCLE.choices("filterable"), ("hidden", "Hidden")]
        checked = FilterForm(request.args)
        checked.category.choices, checked.status.choices = categories, statuses
        checked.validate()
        form = filter_form(request.args, categories, statuses)
        assert isinstance(form, ShownFilters) == plain
        template = app.jinja_env.from_string(_FILTER_FIELDS)
        assert template.render(form=form) == template.render(form=checked)
        for name in ("q", "category", "status", "sort", "supported", "followed", "ready", "mine"):
            assert getattr(form, name).data == getattr(checked, name).data, name


# --- writing ---------------------------------------------------------------------------------

def _form(category_id, **overrides):
    values = {"title": "Crossing at the school", "category_id": str(category_id),
              "body": "Cars are fast.", "address_text": "", "latitude": "", "longitude": ""}
    values.update(overrides)
    return values


def test_writing_a_proposal_through_the_form(app, site):
    author = client_of(app, site["people"]["author"])
    response = author.post("/n/moda/proposals/new", data=_form(site["ids"]["category"]))
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(Proposal).where(Proposal.title == "Crossing at the school"))
        assert created.status == "open"
    assert response.headers["Location"].endswith(f"/n/moda/p/{created.id}")


def test_non_residents_cannot_open_the_form(app, client, site):
    assert client.get("/n/moda/proposals/new").status_code == 302  # to the login page
    for who in ("outsider", "muhtar"):
        assert client_of(app, site["people"][who]).get("/n/moda/proposals/new").status_code == 403
        assert client_of(app, site["people"][who]).post(
            "/n/moda/proposals/new", data=_form(site["ids"]["category"])).status_code == 403


def test_a_point_outside_the_neighbourhood_is_refused_on_the_form(app, site):
    author = client_of(app, site["people"]["author"])
    lat, lon = pf.OUTSIDE
    response = author.post("/n/moda/proposals/new", data=_form(site["ids"]["category"], latitude=str(lat),
                                                                 longitude=str(lon)))
    assert response.status_code == 400
    assert "The point lies outside the neighbourhood" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)
                                 .where(Proposal.title == "Crossing at the school")) == 0


def test_editing_after_support_is_refused_on_the_form(app, site):
    neighbour = client_of(app, site["people"]["neighbour"])
    assert neighbour.post(site["url"] + "/support").status_code == 302
    author = client_of(app, site["people"]["author"])
    response = author.post(site["url"] + "/edit", data=_form(site["ids"]["category"], title="Rewritten"))
    assert response.status_code == 400
    assert "can no longer be edited" in response.get_data(as_text=True)
    assert _get(app, Proposal, site["ids"]["open"]).title == "Lamps in the park"
    assert neighbour.post(site["url"] + "/edit", data=_form(site["ids"]["category"])).status_code == 403


def test_support_twice_and_withdraw_through_the_page(app, client, site):
    anonymous = client.post(site["url"] + "/support")
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]
    assert client_of(app, site["people"]["outsider"]).post(site["url"] + "/support").status_code == 403

    neighbour = client_of(app, site["people"]["neighbour"])
    assert neighbour.post(site["url"] + "/support").status_code == 302
    again = neighbour.post(site["url"] + "/support", follow_redirects=True)
    assert "You already support this proposal." in again.get_data(as_text=True)
    assert _get(app, Proposal, site["ids"]["open"]).support_count == 1
    assert "Withdraw my support" in neighbour.get(site["url"]).get_data(as_text=True)

    neighbour.post(site["url"] + "/support", data={"withdraw": "1"})
    assert _get(app, Proposal, site["ids"]["open"]).support_count == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Support)) == 0


def test_commenting_replying_and_deleting_through_the_page(app, site):
    assert client_of(app, site["people"]["outsider"]).post(
        site["url"] + "/comments", data={"body": "From elsewhere"}).status_code == 403
    neighbour = client_of(app, site["people"]["neighbour"])
    assert neighbour.post(site["url"] + "/comments", data={"body": ""}).status_code == 400
    assert neighbour.post(site["url"] + "/comments", data={"body": "It is dark"}).status_code == 302
    with app.app_context():
        top = db.session.scalar(select(Comment).where(Comment.body == "It is dark"))
    author = client_of(app, site["people"]["author"])
    author.post(site["url"] + "/comments", data={"body": "Thanks", "parent_id": str(top.id)})
    neighbour.post(site["url"] + f"/comments/{top.id}/delete")
    assert author.post(site["url"] + f"/comments/{top.id}/delete").status_code == 403
    html = neighbour.get(site["url"]).get_data(as_text=True)
    assert "This comment was deleted by its author." in html and "It is dark" not in html
    assert "Thanks" in html
    assert _get(app, Proposal, site["ids"]["open"]).comment_count == 1


def test_csrf_is_required_on_state_changes(app, site, monkeypatch):
    neighbour = client_of(app, site["people"]["neighbour"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert neighbour.post(site["url"] + "/support").status_code == 400
    assert neighbour.post(site["url"] + "/comments", data={"body": "No token"}).status_code == 400
    assert _get(app, Proposal, site["ids"]["open"]).support_count == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


# --- moderation ---------------------------------------------------------------------------------

def test_moderation_by_a_muhtar_of_another_neighbourhood_is_forbidden(app, site):
    other = client_of(app, site["people"]["other_muhtar"])
    assert other.post(site["url"] + "/moderate/hide", data={"reason": "Mine now"}).status_code == 403
    assert other.get("/n/moda/reports").status_code == 403
    assert _get(app, Proposal, site["ids"]["open"]).status == "open"
    muhtar = client_of(app, site["people"]["muhtar"])
    assert muhtar.post(site["url"] + "/moderate/erase", data={"reason": "x"}).status_code == 404


def test_a_hidden_proposal_shows_the_public_reason_instead_of_its_text(app, client, site):
    muhtar = client_of(app, site["people"]["muhtar"])
    assert muhtar.post(site["url"] + "/moderate/hide", data={"reason": ""}).status_code == 400
    response = muhtar.post(site["url"] + "/moderate/hide", data={"reason": "Contains a phone number"})
    assert response.status_code == 302
    html = client.get(site["url"]).get_data(as_text=True)
    assert "Contains a phone number" in html and "<strong>dark</strong>" not in html
    log = client.get("/n/moda/moderation").get_data(as_text=True)
    assert "Contains a phone number" in log and "Hidden" in log
    assert "Lamps in the park" not in client.get("/n/moda/proposals").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ModerationAction.reason)) == "Contains a phone number"

    muhtar.post(site["url"] + "/moderate/restore", data={"reason": "Number removed", "back": "queue"})
    html = client.get(site["url"]).get_data(as_text=True)
    assert "<strong>dark</strong>" in html
    assert "Number removed" in client.get("/n/moda/moderation").get_data(as_text=True)


def test_reports_reach_the_muhtar_queue_and_a_second_report_is_refused(app, site):
    for who in ("outsider", "other_muhtar"):  # a resident elsewhere, a muhtar elsewhere
        refused = client_of(app, site["people"][who]).post(site["url"] + "/report", data={"reason": "Spam"})
        assert refused.status_code == 403, who
    neighbour = client_of(app, site["people"]["neighbour"])
    assert neighbour.post(site["url"] + "/report", data={"reason": "Spam spam"}).status_code == 302
    again = neighbour.post(site["url"] + "/report", data={"reason": "More spam"})
    assert again.status_code == 400 and "You have already reported this." in again.get_data(as_text=True)
    muhtar = client_of(app, site["people"]["muhtar"])
    queue = muhtar.get("/n/moda/reports")
    assert queue.status_code == 200 and "Spam spam" in queue.get_data(as_text=True)
    assert client_of(app, site["people"]["neighbour"]).get("/n/moda/reports").status_code == 403

    dismissed = muhtar.post(site["url"] + "/moderate/dismiss", data={"reason": "Not spam", "back": "queue"})
    assert dismissed.status_code == 302 and dismissed.headers["Location"].endswith("/n/moda/reports")
    assert "Spam spam" not in muhtar.get("/n/moda/reports").get_data(as_text=True)
    assert _get(app, Proposal, site["ids"]["open"]).status == "open"
    assert "Not spam" in muhtar.get("/n/moda/moderation").get_data(as_text=True)


def test_publish_withdraw_and_follow_through_the_page(app, site):
    neighbour = client_of(app, site["people"]["neighbour"])
    assert neighbour.post(site["draft_url"] + "/publish").status_code == 404  # a draft is not even visible
    author = client_of(app, site["people"]["author"])
    assert author.post(site["draft_url"] + "/publish").status_code == 302
    assert _get(app, Proposal, site["ids"]["draft"]).status == "open"
    assert neighbour.post(site["draft_url"] + "/withdraw").status_code == 403
    assert author.post(site["draft_url"] + "/withdraw").status_code == 302
    assert _get(app, Proposal, site["ids"]["draft"]).status == "withdrawn"

    neighbour.post(site["url"] + "/follow")
    assert "Stop following" in neighbour.get(site["url"]).get_data(as_text=True)
    neighbour.post(site["url"] + "/follow", data={"unfollow": "1"})
    assert "Stop following" not in neighbour.get(site["url"]).get_data(as_text=True)


# --- the feed -----------------------------------------------------------------------------------

def test_the_atom_feed_is_well_formed_and_lists_only_public_proposals(app, client, site):
    with committed(app):
        hood = db.session.get(pf.Neighbourhood, site["ids"]["hood"])
        author = db.session.get(pf.User, site["people"]["author"].id)
        trees = pf.category(hood, slug="trees")
        services.create_proposal(author, T0 + dt.timedelta(hours=1), hood, pf.data(trees, title="Trees & <shade>"))
        hidden = pf.proposal(pf.World(hood, site["people"]["muhtar"], trees, author), title="Hidden one")
        moderation.hide(db.session.get(pf.User, site["people"]["muhtar"].id), T0, hidden, "Spam")
    response = client.get("/n/moda/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert titles == ["Trees & <shade>", "Lamps in the park"]
    first = next(root.iter(f"{ATOM}entry"))
    assert first.find(f"{ATOM}category").get("term") == "trees"
    assert first.find(f"{ATOM}link").get("href").startswith("http://localhost/n/moda/p/")

    filtered = ET.fromstring(client.get(f"/n/moda/feed.atom?category={trees.id}").data)
    assert [e.findtext(f"{ATOM}title") for e in filtered.iter(f"{ATOM}entry")] == ["Trees & <shade>"]
    empty = ET.fromstring(client.get("/n/moda/feed.atom?category=999999").data)
    assert list(empty.iter(f"{ATOM}entry")) == []


# --- notifications in the reader's language ---------------------------------------------------------

@pytest.fixture
def turkish_catalog(app, tmp_path):
    """A Turkish catalog of our own, so the test does not depend on the state of translations/."""
    catalog = Catalog(locale="tr")
    catalog.add("%(name)s commented on “%(title)s”.", "%(name)s, “%(title)s” önerisine yorum yaptı.")
    catalog.add("Assembly: %(text)s", "Meclis: %(text)s")
    catalog.add("Hello %(name)s,", "Merhaba %(name)s,")
    catalog.add("Your contribution to “%(title)s” was hidden by moderation. Reason: %(reason)s",
                "“%(title)s” katkınız moderasyonla gizlendi. Gerekçe: %(reason)s")
    catalog.add("several reports, pending review", "birkaç şikâyet, inceleme bekliyor")
    directory = tmp_path / "tr" / "LC_MESSAGES"
    directory.mkdir(parents=True)
    with open(directory / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)
    configuration = app.extensions["babel"]
    saved = configuration.translation_directories
    configuration.translation_directories = [str(tmp_path)]
    babel.domain_instance.cache.clear()
    try:
        yield
    finally:
        configuration.translation_directories = saved
        babel.domain_instance.cache.clear()


def test_comment_notifications_are_written_in_the_readers_language(app, site, turkish_catalog):
    with committed(app):
        author = db.session.get(pf.User, site["people"]["author"].id)
        author.locale = "tr"
    neighbour = client_of(app, site["people"]["neighbour"])
    neighbour.post(site["url"] + "/comments", data={"body": "Agreed"}, headers={"Accept-Language": "en"})
    name = site["people"]["neighbour"].display_name
    with app.app_context():
        mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == author.email)
                                  .order_by(OutboxEmail.id.desc())).first()
    assert mail.subject == f"Meclis: {name}, “Lamps in the park” önerisine yorum yaptı."
    assert mail.body_text.startswith(f"Merhaba {author.display_name},")
    page = client_of(app, author).get("/notifications/").get_data(as_text=True)
    assert f"{name}, “Lamps in the park” önerisine yorum yaptı." in page
    english = neighbour.get("/notifications/").get_data(as_text=True)
    assert "önerisine" not in english


def test_an_automatic_hide_is_explained_in_the_authors_language(app, site, turkish_catalog):
    """The reporters read English; the author reads Turkish, reason included."""
    with committed(app):
        author = db.session.get(pf.User, site["people"]["author"].id)
        author.locale = "tr"
    with committed(app):
        hood = db.session.get(pf.Neighbourhood, site["ids"]["hood"])
        reporters = [site["people"]["neighbour"], factories.resident(hood), factories.resident(hood)]
        assert len(reporters) == moderation.auto_hide_threshold(hood)
    for reporter in reporters:
        response = client_of(app, reporter).post(site["url"] + "/report", data={"reason": "Spam"},
                                                 headers={"Accept-Language": "en"})
        assert response.status_code == 302
    hidden = _get(app, Proposal, site["ids"]["open"])
    assert (hidden.status, hidden.hidden_at is not None) == ("open", True)
    expected = "“Lamps in the park” katkınız moderasyonla gizlendi. Gerekçe: birkaç şikâyet, inceleme bekliyor"
    with app.app_context():
        mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == author.email)
                                  .order_by(OutboxEmail.id.desc())).first()
    assert expected in mail.body_text
    assert expected in client_of(app, author).get("/notifications/").get_data(as_text=True)
    log = client_of(app, site["people"]["muhtar"]).get("/n/moda/moderation").get_data(as_text=True)
    assert "Hidden automatically after reports" in log


def test_a_hidden_comment_shows_the_reason_in_its_place(app, client, site):
    neighbour = client_of(app, site["people"]["neighbour"])
    neighbour.post(site["url"] + "/comments", data={"body": "You are all fools"})
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    muhtar = client_of(app, site["people"]["muhtar"])
    assert muhtar.post(site["url"] + f"/comments/{comment_id}/moderate/hide",
                       data={"reason": "Insults are not allowed"}).status_code == 302
    html = client.get(site["url"]).get_data(as_text=True)
    assert "Insults are not allowed" in html and "You are all fools" not in html
    log = client.get("/n/moda/moderation").get_data(as_text=True)
    assert "a comment on" in log and "Insults are not allowed" in log
    assert client_of(app, site["people"]["other_muhtar"]).post(
        site["url"] + f"/comments/{comment_id}/moderate/restore", data={"reason": "x"}).status_code == 403


# --- SQL statements per page ----------------------------------------------------------------------

def _add_proposals(app, site, how_many: int) -> None:
    with committed(app):
        hood = db.session.get(pf.Neighbourhood, site["ids"]["hood"])
        author = db.session.get(pf.User, site["people"]["author"].id)
        neighbour = db.session.get(pf.User, site["people"]["neighbour"].id)
        kind = pf.category(hood)
        world = pf.World(hood, db.session.get(pf.User, site["people"]["muhtar"].id), kind, author)
        for i in range(how_many):
            proposal = pf.proposal(world, title=f"Extra {i}", point=pf.INSIDE, now=T0 + dt.timedelta(minutes=i))
            services.support(neighbour, T0, proposal)
            discussion.add_comment(neighbour, T0, proposal, "Yes")


def test_the_list_page_costs_the_same_number_of_statements_for_3_and_30_proposals(app, site):
    viewer = client_of(app, site["people"]["neighbour"])
    anonymous = app.test_client()
    url = "/n/moda/proposals?sort=supported"
    _add_proposals(app, site, 2)  # 3 with the one of the site
    with counting_statements(app) as few:
        assert viewer.get(url).status_code == 200
    with counting_statements(app) as few_anonymous:
        assert anonymous.get(url).status_code == 200
    _add_proposals(app, site, 27)
    with counting_statements(app) as many:
        html = viewer.get(url).get_data(as_text=True)
    with counting_statements(app) as many_anonymous:
        assert anonymous.get(url).status_code == 200
    assert html.count('class="card proposal-card"') == services.PAGE_SIZE  # a full page was rendered
    assert len(few) > 0
    assert len(many) == len(few), "\n".join(many)
    assert len(many_anonymous) == len(few_anonymous)


def test_the_proposal_page_costs_the_same_number_of_statements_for_3_and_30_comments(app, site):
    viewer = client_of(app, site["people"]["neighbour"])

    def add_comments(how_many):
        with committed(app):
            proposal = db.session.get(Proposal, site["ids"]["open"])
            for i in range(how_many):
                writer = factories.resident(proposal.neighbourhood)
                top = discussion.add_comment(writer, T0, proposal, f"Comment {i}")
                discussion.add_comment(writer, T0, proposal, f"Reply {i}", parent_id=top.id)

    add_comments(3)
    with counting_statements(app) as few:
        assert viewer.get(site["url"]).status_code == 200
    add_comments(27)
    with counting_statements(app) as many:
        html = viewer.get(site["url"]).get_data(as_text=True)
    assert html.count('<article class="comment') == 60
    assert len(many) == len(few), "\n".join(many)
