"""What residents meet when writing and supporting (issue 11, point 10): a category chosen on
purpose, no support of one's own proposal (and none left over from before), and a form sent
twice stored once."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command as alembic_command
from sqlalchemy import func, select, text

from assembly import create_app
from assembly.cli import alembic_config, upgrade_database
from assembly.db import db, make_engine
from assembly.errors import NotAllowed, ValidationFailed
from assembly.proposals import services
from assembly.proposals.models import Comment, Proposal, Report, Support
from assembly.submissions import FormSubmission, new_token
from tests import factories
from tests import proposal_factories as pf
from tests.assembly_factories import client_of
from tests.support import app_config, committed, login
from tests.support import text as page_text

BACKENDS = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def place(app):
    with committed(app):
        w = pf.world()
        neighbour = factories.resident(w.hood)
        proposal = pf.proposal(w, title="Lamps on the sea side")
        found = {"slug": w.hood.slug, "author": w.author, "neighbour": neighbour, "category": w.category.id,
                  "proposal": proposal.id, "hood": w.hood}
    return found


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- the category -------------------------------------------------------------------------------

def test_the_category_select_starts_on_an_empty_prompt(app, place):
    page = client_of(app, place["author"]).get(f"/n/{place['slug']}/proposals/new").get_data(as_text=True)
    select_ = re.search(r'<select[^>]*name="category_id".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>", select_).group(0)
    assert 'value=""' in first and "selected" in first
    assert "Choose a category…" in select_


def test_a_proposal_without_a_category_is_refused_beside_the_field_keeping_the_text(app, place):
    response = client_of(app, place["author"]).post(f"/n/{place['slug']}/proposals/new", data={
        "title": "Benches for the park", "category_id": "", "body": "Old people have nowhere to sit."})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field = re.search(r'<div class="field has-error">\s*<label for="category_id".*?</div>', page, re.S).group(0)
    assert "Choose the category that fits the proposal best." in page_text(response)
    assert "Choose the category that fits the proposal best." in field.replace("&#39;", "'")
    assert 'value="Benches for the park"' in page
    assert _count(app, Proposal, Proposal.title == "Benches for the park") == 0


def test_the_service_refuses_a_proposal_without_a_category(ctx):
    w = pf.world()
    with pytest.raises(ValidationFailed) as refused:
        services.create_proposal(w.author, factories.now(), w.hood, services.ProposalInput(
            title="No category", body="Text", category_id=None))
    assert refused.value.reasons == {"category_id": ["Choose the category that fits the proposal best."]}


# --- no support of one's own proposal --------------------------------------------------------------

def test_the_author_cannot_support_their_own_proposal_and_the_page_says_so(app, place):
    with app.app_context():
        proposal = db.session.get(Proposal, place["proposal"])
        with pytest.raises(NotAllowed):
            services.support(place["author"], factories.now(), proposal)
    client = client_of(app, place["author"])
    url = f"/n/{place['slug']}/p/{place['proposal']}"
    page = page_text(client.get(url))
    assert "Authors cannot support their own proposal" in page and f"{url}/support" not in page
    assert client.post(f"{url}/support").status_code == 403
    assert _count(app, Support, Support.proposal_id == place["proposal"]) == 0


@BACKENDS
def test_the_migration_removes_own_supports_and_counts_again(committed_database):
    url = committed_database
    app = create_app(app_config(url))
    with app.app_context():
        w = pf.world()
        neighbour = factories.resident(w.hood)
        proposal = pf.proposal(w)
        services.support(neighbour, factories.now(), proposal)
        ids = {"proposal": proposal.id, "author": w.author.id, "neighbour": neighbour.id}
        db.session.commit()
    app.extensions["assembly_db"].engine.dispose()
    alembic_command.downgrade(alembic_config(url), "0008_perf")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # what the code before allowed: the author's own support
            connection.execute(text("INSERT INTO supports (proposal_id, user_id, created_at) "
                                    "VALUES (:proposal, :author, CURRENT_TIMESTAMP)"), ids)
            connection.execute(text("UPDATE proposals SET support_count = 2 WHERE id = :proposal"), ids)
        upgrade_database(url)
        with engine.connect() as connection:
            supporters = connection.execute(text("SELECT user_id FROM supports WHERE proposal_id = :proposal"),
                                            ids).scalars().all()
            count = connection.execute(text("SELECT support_count FROM proposals WHERE id = :proposal"),
                                       ids).scalar()
    finally:
        engine.dispose()
    assert supporters == [ids["neighbour"]] and count == 1


# --- a form sent twice is stored once -------------------------------------------------------------------

def _twice(client, url: str, data: dict):
    token = new_token()
    first = client.post(url, data={**data, "form_token": token})
    second = client.post(url, data={**data, "form_token": token})
    assert first.status_code in (302, 303), first.get_data(as_text=True)[:500]
    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]  # the same result, shown again
    return first, second


def test_a_proposal_sent_twice_is_stored_once(app, place):
    client = client_of(app, place["author"])
    _twice(client, f"/n/{place['slug']}/proposals/new", {
        "title": "A crossing by the school", "category_id": str(place["category"]), "body": "Cars drive fast."})
    assert _count(app, Proposal, Proposal.title == "A crossing by the school") == 1


def test_a_comment_sent_twice_is_stored_once(app, place):
    first, _ = _twice(client_of(app, place["neighbour"]), f"/n/{place['slug']}/p/{place['proposal']}/comments",
                      {"body": "I walk there every night."})
    assert re.search(r"#comment-\d+$", first.headers["Location"])
    assert _count(app, Comment, Comment.body == "I walk there every night.") == 1
    with app.app_context():
        assert db.session.get(Proposal, place["proposal"]).comment_count == 1


def test_a_support_sent_twice_is_stored_once(app, place):
    client = client_of(app, place["neighbour"])
    _twice(client, f"/n/{place['slug']}/p/{place['proposal']}/support", {})
    with app.app_context():
        assert db.session.get(Proposal, place["proposal"]).support_count == 1
    assert _count(app, Support, Support.proposal_id == place["proposal"]) == 1
    page = page_text(client.get(f"/n/{place['slug']}/p/{place['proposal']}"))
    assert "You already support this proposal." not in page  # the repeat is no error


def test_a_report_sent_twice_is_stored_once(app, place):
    _twice(client_of(app, place["neighbour"]), f"/n/{place['slug']}/p/{place['proposal']}/report",
           {"reason": "It names a neighbour."})
    assert _count(app, Report, Report.proposal_id == place["proposal"]) == 1
    with app.app_context():
        assert db.session.get(Proposal, place["proposal"]).report_count == 1


def test_a_refused_form_may_be_sent_again_with_the_same_token(app, place):
    client = client_of(app, place["neighbour"])
    url, token = f"/n/{place['slug']}/p/{place['proposal']}/comments", new_token()
    assert client.post(url, data={"body": "", "form_token": token}).status_code == 400
    assert _count(app, FormSubmission, FormSubmission.token == token) == 0  # rolled back with the refusal
    assert client.post(url, data={"body": "Now with text.", "form_token": token}).status_code == 302
    assert _count(app, FormSubmission, FormSubmission.token == token) == 1


def test_another_person_cannot_replay_someone_elses_token(app, place):
    url = f"/n/{place['slug']}/p/{place['proposal']}/comments"
    token = new_token()
    assert client_of(app, place["neighbour"]).post(url, data={"body": "Mine.", "form_token": token}).status_code == 302
    with committed(app):
        other = factories.resident(place["hood"])
    response = client_of(app, other).post(url, data={"body": "Theirs.", "form_token": token})
    assert response.status_code == 400
    assert _count(app, Comment, Comment.body == "Theirs.") == 0


def test_every_form_of_the_proposal_page_carries_its_own_token(app, place):
    page = client_of(app, place["neighbour"]).get(f"/n/{place['slug']}/p/{place['proposal']}").get_data(as_text=True)
    tokens = re.findall(r'name="form_token" value="([^"]+)"', page)
    assert len(tokens) >= 3 and len(set(tokens)) == len(tokens)  # support, report, comment


@pytest.mark.postgres
def test_one_comment_posted_20_times_at_once_with_one_token_is_stored_once(concurrent_app):
    """Real commits, simultaneous requests: the unique token lets one claim in; the others wait for
    it on the constraint and are sent to the same comment."""
    app = concurrent_app
    with app.app_context():
        w = pf.world()
        neighbour = factories.resident(w.hood)
        proposal = pf.proposal(w)
        db.session.commit()
        url, email = f"/n/{w.hood.slug}/p/{proposal.id}/comments", neighbour.email
        proposal_id = proposal.id
    clients = []
    for _ in range(20):
        client = app.test_client()
        login(client, email)
        clients.append(client)
    token, barrier = new_token(), threading.Barrier(20, timeout=120)

    def post(client):
        barrier.wait()
        response = client.post(url, data={"body": "Said once.", "form_token": token})
        return response.status_code, response.headers.get("Location")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, clients))
    assert {status for status, _ in answers} <= {302, 303}, answers
    assert len({location for _, location in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)
                                 .where(Comment.proposal_id == proposal_id)) == 1
        assert db.session.get(Proposal, proposal_id).comment_count == 1
