"""Open311 GeoReport v2 read endpoints: an independent client (the `georeport` package) reads a
running server in JSON and XML; the mapping of cases to service requests; the spec's filters,
default window and limit; errors in the spec's format."""
from __future__ import annotations

import datetime as dt
import json
import threading
import xml.etree.ElementTree as ET

import pytest
from georeport import GeoReport
from werkzeug.serving import make_server

from assembly.api import open311
from assembly.cases import services as cases
from assembly.actors import SystemActor
from assembly.neighbourhoods import structure
from assembly.proposals import services as proposals
from assembly.proposals.services import ProposalInput
from tests import case_factories as cf
from tests import factories
from tests.api_support import DAY, committed
from tests.support import english_client

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def client(app):
    return english_client(app)


@pytest.fixture
def live_server(app, monkeypatch):
    """The app served over HTTP on a free port of 127.0.0.1, in a thread, for outside clients."""
    for name in ("NO_PROXY", "no_proxy"):  # a proxy set for the machine must not get these requests
        monkeypatch.setenv(name, "127.0.0.1")
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _forward(w, when: dt.datetime, title: str, body=None, point=None, address=None):
    latitude, longitude = point or (None, None)
    item = proposals.create_proposal(w.author, when, w.hood, ProposalInput(
        title=title, body="Sokak lambaları yanmıyor.", category_id=w.category.id, latitude=latitude,
        longitude=longitude, address_text=address), publish=True)
    return cases.forward(w.muhtar, when, item, body or w.body, reason="Urgent: the street is dark at night.")


@pytest.fixture
def site(app):
    """Kadıköy cases in every Open311 state, one too old for the default window, one at the
    police, and a case of Ankara whose category has the same slug as Kadıköy's."""
    now = factories.now()
    with committed(app):
        w = cf.world(code="KDK")
        lamp = _forward(w, now - 10 * DAY, "Lamp on Moda Caddesi", point=(40.9838, 29.0265),
                        address="Moda Caddesi 12")
        done = cf.walk(w, _forward(w, now - 9 * DAY, "Bench"), now - 9 * DAY + MINUTE, "done")
        rejected = _forward(w, now - 8 * DAY, "Fountain")
        cases.apply_event(w.staff, now - 8 * DAY + MINUTE, rejected, "received", {})
        cases.apply_event(w.staff, now - 8 * DAY + 2 * MINUTE, rejected, "decided",
                          {"decision": "rejected", "note": "No budget this year."})
        working = cf.walk(w, _forward(w, now - 7 * DAY, "Pavement"), now - 7 * DAY + MINUTE, "in_progress")
        scheduled = cf.walk(w, _forward(w, now - 6 * DAY, "Crossing"), now - 6 * DAY + MINUTE, "scheduled")
        police = _forward(w, now - 5 * DAY, "Dark corner", body=w.other_body)
        old = _forward(w, now - 120 * DAY, "Old request")
        ankara = cf.world(code="ANK", hood_code="CANKAYA")
        twin = structure.create_category(SystemActor(), now, municipality=ankara.municipality, slug=w.category.slug,
                                     names={"tr": "Aydınlatma", "en": "Lighting"}, default_body=None)
        ankara.category = twin
        ankara_case = _forward(ankara, now - 4 * DAY, "Ankara lamp")
        refs = {name: case.reference for name, case in [
            ("lamp", lamp), ("done", done), ("rejected", rejected), ("working", working), ("scheduled", scheduled),
            ("police", police), ("old", old), ("ankara", ankara_case)]}
        site = {"refs": refs, "slug": w.category.slug, "council": w.body.name, "police": w.other_body.name}
    return site


def _json(client, path: str, **params):
    response = client.get(f"/open311/v2/{path}", query_string=params)
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    return response


def _xml(client, path: str, **params) -> tuple[int, ET.Element]:
    response = client.get(f"/open311/v2/{path}", query_string=params)
    assert response.mimetype == "text/xml"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return response.status_code, ET.fromstring(response.get_data())


# --- an independent client against a running server ------------------------------------------------

@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_an_open311_client_reads_the_services(live_server, site, output_format):
    services = GeoReport(live_server, output_format=output_format).get_service_list()
    by_code = {service["service_code"]: service for service in services}
    kadikoy, ankara = f"KDK.{site['slug']}", f"ANK.{site['slug']}"
    assert {kadikoy, ankara} <= set(by_code)
    assert by_code[kadikoy]["service_name"] == "Lighting"
    assert by_code[kadikoy]["group"] == "Kadıköy"
    assert str(by_code[kadikoy]["metadata"]).lower() == "false"
    assert by_code[kadikoy]["type"] == "realtime"


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_an_open311_client_reads_the_requests(live_server, site, output_format):
    client = GeoReport(live_server, output_format=output_format)
    found = client.get_service_requests()
    refs = site["refs"]
    ids = [request["service_request_id"] for request in found]
    assert ids == [refs[name] for name in ("ankara", "police", "scheduled", "working", "rejected", "done", "lamp")]
    status = {request["service_request_id"]: request["status"] for request in found}
    assert [status[refs[name]] for name in ("lamp", "done", "rejected", "working", "scheduled", "police")] == [
        "open", "closed", "closed", "open", "open", "open"]
    closed = client.get_service_requests(status="closed")
    assert {request["service_request_id"] for request in closed} == {refs["done"], refs["rejected"]}
    one = client.get_service_request(refs["lamp"])
    assert one["service_request_id"] == refs["lamp"]
    assert one["service_code"] == f"KDK.{site['slug']}"
    assert one["agency_responsible"] == site["council"]
    assert one["address"] == "Moda Caddesi 12"
    assert float(one["lat"]) == 40.9838 and float(one["long"]) == 29.0265
    assert one["status_notes"] == "Forwarded"
    assert "media_url" not in one


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_an_open311_client_filters_by_id_and_service_code(live_server, site, output_format):
    client = GeoReport(live_server, output_format=output_format)
    refs = site["refs"]
    asked = client.get_service_requests(service_request_id=f"{refs['old']},{refs['lamp']}", status="closed")
    assert [request["service_request_id"] for request in asked] == [refs["lamp"], refs["old"]]
    ankara = client.get_service_request(refs["ankara"])
    assert ankara["service_code"] == f"ANK.{site['slug']}"
    by_code = client.get_service_requests(service_code=f"ANK.{site['slug']}")
    by_code = [by_code] if isinstance(by_code, dict) else by_code  # XML: xmltodict makes one item a dict
    assert [request["service_request_id"] for request in by_code] == [refs["ankara"]]


# --- the mapping -------------------------------------------------------------------------------------

def _requests(client, **params) -> dict[str, dict]:
    response = _json(client, "requests.json", **params)
    assert response.status_code == 200
    return {request["service_request_id"]: request for request in response.get_json()}


def test_the_detailed_status_goes_to_status_notes(client, site):
    found, refs = _requests(client), site["refs"]
    assert found[refs["done"]]["status_notes"] == "Done"
    assert found[refs["rejected"]]["status_notes"] == "Decided: rejected — No budget this year."
    assert found[refs["working"]]["status_notes"] == "In progress (40%)"
    assert found[refs["scheduled"]]["status_notes"] == "On the council's agenda"
    assert found[refs["police"]]["agency_responsible"] == site["police"]


def test_notices_dates_and_descriptions(client, site):
    found, refs = _requests(client), site["refs"]
    lamp = found[refs["lamp"]]
    assert lamp["description"].startswith("Lamp on Moda Caddesi\n\n")
    assert lamp["requested_datetime"].endswith("Z") and dt.datetime.fromisoformat(lamp["requested_datetime"])
    assert lamp["service_notice"].startswith("The body answers by ")
    assert lamp["expected_datetime"] is not None
    assert found[refs["scheduled"]]["service_notice"].startswith("On the agenda of the council meeting of ")
    assert found[refs["scheduled"]]["service_notice"].endswith("item 2026/41.")
    assert found[refs["done"]]["service_notice"] is None and found[refs["done"]]["expected_datetime"] is None
    assert found[refs["police"]]["lat"] is None


# --- filters, window and limit -------------------------------------------------------------------------

def test_the_default_window_is_the_last_90_days(client, site):
    refs = site["refs"]
    assert refs["old"] not in _requests(client)
    now = factories.now()
    window = {"start_date": (now - 125 * DAY).isoformat(), "end_date": (now - 100 * DAY).isoformat()}
    assert list(_requests(client, **window)) == [refs["old"]]
    start_only = _requests(client, start_date=(now - 121 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert list(start_only) == [refs["old"]]  # 90 days from the start
    end_only = _requests(client, end_date=(now - 8 * DAY - MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert list(end_only) == [refs["done"], refs["lamp"]]  # the 90 days up to the end


def test_status_and_service_code_filters(client, site):
    refs = site["refs"]
    opened = _requests(client, status="open")
    assert set(opened) == {refs[name] for name in ("lamp", "working", "scheduled", "police", "ankara")}
    both = _requests(client, status="open,closed")
    assert len(both) == 7
    kadikoy = _requests(client, service_code=f"KDK.{site['slug']},XYZ.nothing")
    assert refs["ankara"] not in kadikoy and len(kadikoy) == 6
    assert _requests(client, service_code="nonsense") == {}


def test_the_jurisdiction_narrows_to_one_municipality(client, site):
    assert list(_requests(client, jurisdiction_id="ANK")) == [site["refs"]["ankara"]]
    services = _json(client, "services.json", jurisdiction_id="ank").get_json()
    codes = [service["service_code"] for service in services]
    assert f"ANK.{site['slug']}" in codes and all(code.startswith("ANK.") for code in codes)
    unknown = _json(client, "requests.json", jurisdiction_id="NOPE")
    assert unknown.status_code == 404
    assert unknown.get_json()[0]["code"] == 404


def test_at_most_the_limit_is_returned_newest_first(client, site, monkeypatch):
    monkeypatch.setattr(open311, "MAX_REQUESTS", 3)
    refs = site["refs"]
    assert list(_requests(client)) == [refs["ankara"], refs["police"], refs["scheduled"]]


@pytest.mark.parametrize("params", [
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    {"start_date": "last week"},
    {"status": "pending"},
])
def test_invalid_filters_are_a_400_in_the_requested_format(client, site, params):
    response = _json(client, "requests.json", **params)
    assert response.status_code == 400
    [error] = response.get_json()
    assert error["code"] == 400 and error["description"]
    status, root = _xml(client, "requests.xml", **params)
    assert status == 400
    assert root.tag == "errors" and root.find("error/code").text == "400"


def test_an_unknown_request_is_a_404_in_both_formats(client, site):
    response = _json(client, "requests/KDK-NOWHERE-2026-0001.json")
    assert response.status_code == 404
    assert response.get_json() == [{"code": 404, "description": "There is no service request with this id."}]
    status, root = _xml(client, "requests/KDK-NOWHERE-2026-0001.xml")
    assert status == 404 and root.find("error/description").text == "There is no service request with this id."
    assert _json(client, f"requests/{site['refs']['lamp'].lower()}.json").status_code == 200


def test_one_request_is_a_list_of_one(client, site):
    response = _json(client, f"requests/{site['refs']['rejected']}.json")
    [request] = response.get_json()
    assert request["status"] == "closed"
    status, root = _xml(client, f"requests/{site['refs']['rejected']}.xml")
    assert status == 200 and root.tag == "service_requests"
    assert [element.find("service_request_id").text for element in root] == [site["refs"]["rejected"]]
    assert root.find("request/media_url") is None and root.find("request/lat") is None


# --- discovery and plumbing ------------------------------------------------------------------------------

def test_discovery_in_json_and_xml(client):
    document = _json(client, "discovery.json").get_json()
    [endpoint] = document["endpoints"]
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    status, root = _xml(client, "discovery.xml")
    assert status == 200
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_reads_are_public_and_open_to_browser_apps(client, site):
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.get_data())  # no key, no cookie needed


def test_unknown_open311_addresses_answer_in_the_spec_format(client):
    status, root = _xml(client, "nothing.xml")
    assert status == 404 and root.tag == "errors"
    response = _json(client, "services/KDK.lighting.json")  # service definitions: no metadata, none served
    assert response.status_code == 404 and response.get_json()[0]["code"] == 404
    post = client.post("/open311/v2/requests.json")
    assert post.status_code == 405 and post.get_json()[0]["code"] == 405
