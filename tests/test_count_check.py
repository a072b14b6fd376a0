"""Checking a vote without a terminal (issue 11, point 4): the ballots file is served as exactly
the bytes whose SHA-256 is published, and the public check page recounts an uploaded file without
storing it, saying in plain words whether it is the published file and gives the published result."""
from __future__ import annotations

import hashlib
import io
import json

import pytest
from sqlalchemy import func, select

from assembly.assemblies import voting
from assembly.assemblies.models import BallotResult
from assembly.db import db
from tests import assembly_factories as af
from tests.assembly_factories import client_of, committed


@pytest.fixture
def counted(app):
    with committed(app):
        session = af.voting_open(method="yes_no", secrecy="secret", items=2, voters=3)
        votes = {voter: af.yes_no(session, "yes", "no") for voter in session.voters[:2]}
        result = af.closed(session, votes)
        path = f"/n/{session.hood.slug}/assemblies/{session.assembly.id}"
        digest, ballot_id = result.digest, result.ballot_id
    return path, digest, ballot_id


def _upload(client, path: str, data: bytes, filename: str = "ballots.json"):
    return client.post(f"{path}/check", data={"ballots": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_served_file_has_the_published_fingerprint(app, counted):
    path, digest, _ballot = counted
    response = client_of(app).get(f"{path}/ballots.json")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == digest
    assert response.headers["X-Ballots-Digest"] == digest
    assert json.loads(response.data)["format"] == "assembly.ballots/2"


def test_the_results_explain_the_check_in_plain_words_without_a_command(app, counted):
    path, digest, _ballot = counted
    page = client_of(app).get(path).get_data(as_text=True)
    assert "flask recount" not in page
    assert f"{path}/check" in page and digest in page


def test_the_downloaded_file_is_recounted_to_the_published_result_and_not_stored(app, counted):
    path, digest, ballot_id = counted
    client = client_of(app)
    data = client.get(f"{path}/ballots.json").data
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(BallotResult))
    response = _upload(client, path, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file is exactly the published ballots file." in page
    assert "Counted again, its ballots give exactly the published result." in page
    assert digest in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BallotResult)) == before


def test_a_reformatted_file_has_the_same_content_but_another_fingerprint(app, counted):
    path, _digest, _ballot = counted
    client = client_of(app)
    pretty = json.dumps(json.loads(client.get(f"{path}/ballots.json").data), indent=2).encode()
    page = _upload(client, path, pretty).get_data(as_text=True)
    assert "laid out differently, but its ballots and rules are exactly the published ones" in page
    assert hashlib.sha256(pretty).hexdigest() in page


def test_a_changed_vote_is_found(app, counted):
    path, _digest, _ballot = counted
    client = client_of(app)
    document = json.loads(client.get(f"{path}/ballots.json").data)
    first = document["ballots"][0]["vote"]
    item = sorted(first)[0]
    first[item] = "no" if first[item] == "yes" else "yes"
    page = _upload(client, path, json.dumps(document).encode()).get_data(as_text=True)
    assert "is not the published ballots file" in page
    assert "give a different result from the published one" in page


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG not json", "it is not JSON text"),
    (b'{"ballots": []}', "This file cannot be counted: missing_key (rules)"),
])
def test_a_file_that_cannot_be_counted_is_explained(app, counted, data, message):
    path, _digest, _ballot = counted
    response = _upload(client_of(app), path, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_no_file_and_too_large_files_are_refused(app, counted):
    path, _digest, _ballot = counted
    client = client_of(app)
    response = client.post(f"{path}/check", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the ballots file you downloaded." in response.get_data(as_text=True)
    app.config["BALLOTS_FILE_MAX_BYTES"], saved = 1024, app.config["BALLOTS_FILE_MAX_BYTES"]
    try:
        assert _upload(client, path, b" " * 4096).status_code == 413
    finally:
        app.config["BALLOTS_FILE_MAX_BYTES"] = saved


def test_the_check_page_works_before_any_upload_and_loads_its_own_script(app, counted):
    path, digest, _ballot = counted
    response = client_of(app).get(f"{path}/check")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert digest in page and 'enctype="multipart/form-data"' in page
    assert "/static/js/check_count.js" in page and "<script>" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{spaced}", "{persian}"])
def test_receipts_are_accepted_however_they_are_typed(typed):
    code = voting.new_receipt()
    raw = code.replace("-", "")
    forms = {"code": code, "lower": code.lower(), "spaced": " ".join(raw[i:i + 4] for i in range(0, len(raw), 4)),
             "persian": code.lower().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))}
    assert voting.normalise_receipt(typed.format(**forms)) == code
