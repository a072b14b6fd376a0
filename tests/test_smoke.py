from assembly.db import db
from tests import factories
from tests.support import login


def test_home_page_lists_neighbourhoods(app, client):
    with app.app_context():
        factories.neighbourhood(slug="caferaga")
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    assert "caferaga" in response.get_data(as_text=True)


def test_login_and_muhtar_queue(app, client):
    with app.app_context():
        hood = factories.neighbourhood(slug="moda")
        boss = factories.muhtar(hood)
        factories.pending(hood)
        db.session.commit()
        email = boss.email
    login(client, email)
    response = client.get("/n/moda/members")
    assert response.status_code == 200
    assert "Street 2" in response.get_data(as_text=True)
