"""A hidden proposal's title may itself be what was hidden: only its author and the muhtar see it."""
from assembly.db import db
from assembly.proposals import moderation
from tests import factories
from tests import proposal_factories as pf
from tests.support import login

SECRET_TITLE = "Call 0555 123 45 67 about the noise"


def _hidden_world(app):
    with app.app_context():
        w = pf.world(slug="kadife")
        proposal = pf.proposal(w, title=SECRET_TITLE)
        moderation.hide(w.muhtar, factories.now(), proposal, "Personal phone number")
        neighbour = factories.resident(w.hood)
        db.session.commit()
        return {"path": f"/n/kadife/p/{proposal.id}", "author": w.author.email, "muhtar": w.muhtar.email,
                "neighbour": neighbour.email}


def test_visitors_and_neighbours_see_a_placeholder_and_the_reason(app):
    world = _hidden_world(app)
    visitor = app.test_client()
    neighbour = app.test_client()
    for client in (visitor, neighbour):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the neighbourhood's own language is Turkish
    login(neighbour, world["neighbour"])
    for client in (visitor, neighbour):
        for path in (world["path"], "/n/kadife/moderation", "/n/kadife/proposals?status=hidden"):
            page = client.get(path).get_data(as_text=True)
            assert SECRET_TITLE not in page, path
        page = client.get(world["path"]).get_data(as_text=True)
        assert "Proposal hidden by moderation" in page
        assert "Personal phone number" in page


def test_the_author_and_the_muhtar_still_see_the_title(app):
    world = _hidden_world(app)
    for email in (world["author"], world["muhtar"]):
        client = app.test_client()
        login(client, email)
        assert SECRET_TITLE in client.get(world["path"]).get_data(as_text=True)
