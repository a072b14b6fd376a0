"""Absolute links come from the configured BASE_URL, never from the request's Host header
(anyone can send any Host; a feed, calendar, API answer or e-mail would then point elsewhere)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy import select

from assembly import create_app
from assembly.accounts import services as accounts
from assembly.config import ConfigError
from assembly.db import db
from assembly.notifications.models import OutboxEmail
from tests import assembly_factories as af
from tests import case_factories as cf
from tests import factories
from tests.api_support import bearer, token_for
from tests.support import app_config as settings_for
from tests.support import isolated_app

BASE = "https://assembly.example.org/civic"
FORGED = "evil.example"
ABSOLUTE = re.compile(r"https?://[^\s\"'<>\\]+")
FOREIGN_HOSTS = {"www.w3.org", "wiki.open311.org"}  # Atom's name space, the Open311 specification


@pytest.fixture(scope="module")
def linked(database_url):
    """An app whose public address is BASE, with a meeting, proposals and a forwarded case."""
    with isolated_app(database_url, BASE_URL=BASE + "/") as app:
        with app.app_context():
            session = af.announced(items=1)
            w = cf.world()
            case = cf.forwarded(w, factories.now())
            data = {"slug": session.hood.slug, "assembly_id": session.assembly.id, "reference": case.reference,
                    "token": token_for(w.staff, w.body), "email": w.author.email}
            db.session.commit()
        yield app, data


def _forged(app, path: str, **headers):
    """A request that claims to be for another host, directly and through proxy headers."""
    client = app.test_client()
    return client.get(path, base_url=f"https://{FORGED}",
                      headers={"X-Forwarded-Host": FORGED, "Forwarded": f"host={FORGED}", **headers})


def _links(body: str) -> list[str]:
    found = ABSOLUTE.findall(body)
    assert found, "no absolute link in the answer"
    return found


def _assert_on_base(body: str) -> None:
    """Every absolute link is on BASE_URL, except the name spaces and specifications of the formats."""
    assert FORGED not in body
    for link in _links(body):
        assert link.startswith(BASE + "/") or urlsplit(link).hostname in FOREIGN_HOSTS, link


def test_the_atom_feed_links_to_base_url(linked):
    app, data = linked
    response = _forged(app, f"/n/{data['slug']}/feed.atom")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_on_base(body)
    assert f"{BASE}/n/{data['slug']}/feed.atom" in body
    assert f"{BASE}/n/{data['slug']}/p/" in body


def test_the_calendar_links_and_names_events_with_base_url(linked):
    app, data = linked
    response = _forged(app, f"/n/{data['slug']}/assemblies/calendar.ics")
    assert response.status_code == 200
    _assert_on_base(response.get_data(as_text=True))
    [event] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["URL"]) == f"{BASE}/n/{data['slug']}/assemblies/{data['assembly_id']}"
    assert str(event["UID"]) == f"assembly-{data['assembly_id']}@assembly.example.org"


@pytest.mark.parametrize("format_", ["json", "xml"])
def test_open311_discovery_points_to_base_url(linked, format_):
    app, _data = linked
    response = _forged(app, f"/open311/v2/discovery.{format_}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_on_base(body)
    assert f"{BASE}/open311/v2<" in body or f'"{BASE}/open311/v2"' in body
    assert f"{BASE}/" in body  # the contact line names the site


def test_api_cases_link_to_base_url(linked):
    app, data = linked
    response = _forged(app, "/api/v1/cases", **bearer(data["token"]))
    assert response.status_code == 200
    _assert_on_base(response.get_data(as_text=True))
    assert [case["url"] for case in response.get_json()["data"]] == [f"{BASE}/cases/{data['reference']}"]
    single = _forged(app, f"/api/v1/cases/{data['reference']}", **bearer(data["token"]))
    assert single.get_json()["data"]["url"] == f"{BASE}/cases/{data['reference']}"


def test_mail_links_use_base_url_also_outside_a_request(linked):
    app, data = linked
    with app.app_context():
        accounts.request_password_reset(data["email"], factories.now())
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == data["email"])
                                 .order_by(OutboxEmail.id.desc()))
        assert re.search(rf"^{re.escape(BASE)}/account/reset/[\w-]+$", mail.body_text, re.MULTILINE)
        db.session.rollback()


# --- configuration ---------------------------------------------------------------------------------

@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("BASE_URL", "ASSEMBLY_BASE_URL", "ASSEMBLY_ENV", "ASSEMBLY_ASSEMBLY_ENV"):
        monkeypatch.delenv(name, raising=False)


def _production(**overrides) -> dict:
    return settings_for("sqlite://", ASSEMBLY_ENV="production", TESTING=False, **overrides)


def test_production_refuses_to_start_without_base_url(clean_environment):
    settings = _production()
    del settings["BASE_URL"]
    with pytest.raises(ConfigError, match="In production BASE_URL must be set"):
        create_app(settings)
    with pytest.raises(ConfigError, match="BASE_URL must be set"):
        create_app(_production(BASE_URL="  "))


@pytest.mark.parametrize("value", ["assembly.example.org", "ftp://assembly.example.org", "https://",
                                   "https://assembly.example.org/?x=1", "https://assembly.example.org/#top"])
def test_a_base_url_that_is_not_a_web_address_is_refused(clean_environment, value):
    with pytest.raises(ConfigError, match="BASE_URL must be an http:// or https:// address"):
        create_app(_production(BASE_URL=value))


def test_outside_production_base_url_has_a_local_default(clean_environment):
    settings = settings_for("sqlite://")
    del settings["BASE_URL"]
    assert create_app(settings).config["BASE_URL"] == "http://127.0.0.1:5000"
    assert create_app(_production(BASE_URL=BASE + "/")).config["BASE_URL"] == BASE
