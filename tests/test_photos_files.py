"""Photo files in step with the database: what a request wrote is deleted when its transaction
does not commit (a refusal after the files were written, a commit that fails, a rolled-back
SAVEPOINT), a removal deletes the files only once committed, and `flask photos sweep` removes old
files that no row names (locally and in an S3-compatible store)."""
from __future__ import annotations

import datetime as dt
import io
import os
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from assembly.db import db, utcnow
from assembly.errors import ValidationFailed
from assembly.meetings import services as meetings
from assembly.meetings.models import MeetingQuestion, MeetingStatus
from assembly.photos import files
from assembly.photos import services as photos
from assembly.photos.models import Photo
from assembly.photos.storage import LocalStore, S3Store
from assembly.photos.sweep import sweep
from assembly.promises.models import CommitmentEvent
from tests import case_factories as cf
from tests import factories
from tests import meeting_factories as mf
from tests import promise_factories as pr
from tests import proposal_factories as pf
from tests.photo_support import jpeg, s3_endpoint, store  # noqa: F401 - fixtures
from tests.support import committed, login

HOUR = dt.timedelta(hours=1)


def _names(store) -> list[str]:
    return sorted(name for name, _modified in store.listing())


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def open_meeting(app, store):
    with committed(app):
        w = mf.world()
        meetings.move(w.muhtar, factories.now(), w.meeting, MeetingStatus.OPEN)
    return w


def _ask_with_photo(app, w):
    client = app.test_client()
    login(client, w.resident.email)
    return client.post(f"/meetings/{w.meeting.id}/questions", content_type="multipart/form-data", data={
        "body_id": str(w.police.id), "text": "Devriye yok.", "photos": [(io.BytesIO(jpeg()), "street.jpg")]})


def test_a_request_refused_after_its_files_were_written_leaves_no_file(app, open_meeting, store, monkeypatch):
    written = []
    attach = photos.attach

    def attach_then_refuse(*args, **kwargs):
        attached = attach(*args, **kwargs)
        written.extend(_names(store))
        raise ValidationFailed("Refused after the files were written.", "photos")

    monkeypatch.setattr(photos, "attach", attach_then_refuse)
    response = _ask_with_photo(app, open_meeting)
    assert response.status_code == 400 and "Refused after the files were written." in response.get_data(as_text=True)
    assert len(written) == 2  # the photo and its thumbnail had been stored …
    assert _names(store) == []  # … and went with the rolled-back transaction
    with app.app_context():
        assert _count(Photo) == 0 and _count(MeetingQuestion) == 0


def test_a_request_whose_commit_fails_leaves_no_file(app, store):
    with committed(app):
        w = cf.world()
        promise = pr.published(w, factories.now())
        url = f"/promises/{promise.id}/commitments/{promise.commitments[0].id}/progress"
    client = app.test_client()
    login(client, w.staff.email)

    seen = []

    def fail(_session):
        seen.extend(_names(store))
        raise RuntimeError("the database went away at commit")

    event.listen(Session, "before_commit", fail)
    try:
        with pytest.raises(RuntimeError):
            client.post(url, content_type="multipart/form-data",
                        data={"percent": "10", "note": "Lamps.", "photos": [(io.BytesIO(jpeg()), "lamp.jpg")]})
    finally:
        event.remove(Session, "before_commit", fail)
    assert len(seen) == 2  # the photo and its thumbnail were stored when the commit failed …
    assert _names(store) == []  # … and went with the transaction
    with app.app_context():
        assert _count(Photo) == 0 and _count(CommitmentEvent) == 2  # the two commitments' terms only


def test_files_written_in_a_rolled_back_savepoint_go_and_the_others_stay(ctx, store):
    w = pf.world(slug="moda-savepoint")
    first, second = pf.proposal(w), pf.proposal(w, title="Another bench")
    encoded = photos.prepare([photos.Upload("a.jpg", jpeg())])
    nested = db.session.begin_nested()
    [undone] = photos.attach(w.author, factories.now(), "proposal", first, encoded)
    assert len(_names(store)) == 2
    nested.rollback()
    assert _names(store) == []
    [kept] = photos.attach(w.author, factories.now(), "proposal", second, encoded)
    db.session.commit()
    assert _names(store) == sorted([f"{kept.storage_key}.jpg", f"{kept.storage_key}-thumb.jpg"])
    assert files.pending(db.session) == ([], [])


def test_a_removal_deletes_the_files_only_once_committed(ctx, store):
    w = pf.world(slug="moda-removal")
    proposal = pf.proposal(w)
    [photo] = photos.attach(w.author, factories.now(), "proposal", proposal,
                            photos.prepare([photos.Upload("a.jpg", jpeg())]))
    db.session.commit()
    photos.remove(w.author, factories.now(), photo)
    db.session.rollback()  # the removal did not happen: the row is back, and so are its files
    assert _count(Photo) == 1 and len(_names(store)) == 2
    photos.remove(w.author, factories.now(), db.session.get(Photo, photo.id))
    db.session.commit()
    assert _count(Photo) == 0 and _names(store) == []


# --- flask photos sweep ------------------------------------------------------------------------------

def _age(store: LocalStore, name: str, hours: float) -> None:
    path = store.folder / name[:2] / name
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_sweep_removes_old_files_that_no_row_names(app, store):
    with committed(app):
        w = pf.world(slug="moda-sweep")
        [photo] = photos.attach(w.author, factories.now(), "proposal", pf.proposal(w),
                                photos.prepare([photos.Upload("a.jpg", jpeg())]))
        kept = [f"{photo.storage_key}.jpg", f"{photo.storage_key}-thumb.jpg"]
    orphan, young, partial = "a" * 32 + ".jpg", "b" * 32 + "-thumb.jpg", "c" * 32 + ".part"
    for name in (orphan, young, partial):
        store.put(name, b"left behind")
    for name in (*kept, orphan, partial):
        _age(store, name, hours=3)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["photos", "sweep", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would remove {orphan}" in dry.output and f"would remove {partial}" in dry.output
    assert "2 of 4 file(s)" in dry.output and len(_names(store)) == 5
    done = runner.invoke(args=["photos", "sweep"])
    assert done.exit_code == 0 and f"removed {orphan}" in done.output
    assert _names(store) == sorted([*kept, young])  # the young one may be a request's that has not committed yet
    assert "0 of 2 file(s)" in runner.invoke(args=["photos", "sweep", "--older-than", "1"]).output
    assert _names(store) == sorted([*kept, young])


def test_sweep_works_on_an_s3_compatible_store(app, s3_endpoint):
    s3 = S3Store("sweep-photos", endpoint_url=s3_endpoint, region="eu-north-1", access_key_id="test",
                 secret_access_key="test", prefix="moda/")
    s3.client.create_bucket(Bucket="sweep-photos", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    app.extensions["assembly_photo_store"] = s3
    try:
        with committed(app):
            w = pf.world(slug="moda-s3-sweep")
            [photo] = photos.attach(w.author, factories.now(), "proposal", pf.proposal(w),
                                    photos.prepare([photos.Upload("a.jpg", jpeg())]))
        orphan = "d" * 32 + ".jpg"
        s3.put(orphan, b"left behind")
        s3.client.put_object(Bucket="sweep-photos", Key="elsewhere/" + orphan, Body=b"not ours")
        with app.app_context():
            result = sweep(s3, utcnow() + 2 * HOUR, HOUR)
        assert result.removed == [orphan] and result.checked == 3
        assert sorted(_names(s3)) == sorted([f"{photo.storage_key}.jpg", f"{photo.storage_key}-thumb.jpg"])
        assert s3.client.get_object(Bucket="sweep-photos", Key="elsewhere/" + orphan)["Body"].read() == b"not ours"
    finally:
        app.extensions.pop("assembly_photo_store", None)
