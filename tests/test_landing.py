"""After logging in, every role lands where its work is (issue 11, point 5); a `next` address
chosen before logging in still wins."""
from __future__ import annotations

import pytest

from assembly.db import db
from tests import factories
from tests.support import PASSWORD, login


@pytest.fixture
def people(app):
    with app.app_context():
        hood = factories.neighbourhood(slug="kuzguncuk")
        other = factories.neighbourhood(owner=hood.municipality, slug="moda")
        council = factories.body(hood.municipality)
        applicant = factories.user(email="applicant@example.org")
        factories.pending(hood, applicant)
        found = {
            "admin": factories.admin().email,
            "muhtar": factories.muhtar(hood).email,
            "staff": factories.staff(council).email,
            "resident": factories.resident(other).email,
            "applicant": applicant.email,
            "newcomer": factories.user(email="newcomer@example.org").email,
        }
        db.session.commit()
    return found


@pytest.mark.parametrize("role, landing", [
    ("admin", "/admin/"), ("muhtar", "/muhtar"), ("staff", "/staff"), ("resident", "/n/moda"),
    ("applicant", "/n/kuzguncuk"), ("newcomer", "/"),
])
def test_each_role_lands_where_its_work_is(client, people, role, landing):
    response = login(client, people[role])
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_an_address_asked_for_before_logging_in_wins(client, people):
    response = client.post("/account/login?next=/n/moda/proposals",
                           data={"email": people["muhtar"], "password": PASSWORD})
    assert response.headers["Location"] == "/n/moda/proposals"


def test_a_logged_in_person_opening_the_login_page_goes_to_their_work(client, people):
    login(client, people["staff"])
    assert client.get("/account/login").headers["Location"] == "/staff"
