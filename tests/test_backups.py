"""Backups that restore: the commands of docs/operations.md ("Backups") applied to a database
full of demo data, restored into a new database, which the integrity checks then accept and whose
every row equals the original's."""
from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from assembly import create_app
from assembly.db import db, utcnow
from assembly.demo import load_demo
from tests.support import app_config, fingerprint, skip_or_fail, snapshot


def _filled_app(url: str):
    app = create_app(app_config(url))
    with app.app_context():
        load_demo(utcnow())
        db.session.commit()
    return app


def _integrity_checks_pass(app) -> None:
    runner = app.test_cli_runner()
    verified = runner.invoke(args=["cases", "verify"])
    assert verified.exit_code == 0 and "every case timeline is intact" in verified.output, verified.output
    counted = runner.invoke(args=["check", "counters"])
    assert counted.exit_code == 0 and "all counters equal a full recount" in counted.output, counted.output


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def _empty_postgres_database(like_url: str):
    name = f"assembly_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(like_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield like_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"the backup test needs the {name} program")
    return found


@pytest.mark.postgres
def test_a_postgresql_dump_restores_into_a_new_database_that_passes_the_checks(committed_database, tmp_path):
    original = _filled_app(committed_database)
    dump = tmp_path / "assembly.dump"
    subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={dump}", _libpq(committed_database)], check=True)
    with _empty_postgres_database(committed_database) as restored_url:
        subprocess.run([_tool("pg_restore"), "--no-owner", f"--dbname={_libpq(restored_url)}", str(dump)],
                       check=True)
        restored = create_app(app_config(restored_url))
        _integrity_checks_pass(restored)
        assert fingerprint(snapshot(restored)) == fingerprint(snapshot(original))
        with restored.app_context():  # the restored database takes new writes (sequences came along)
            assert db.session.execute(text("SELECT nextval('users_id_seq')")).scalar() > \
                db.session.execute(text("SELECT max(id) FROM users")).scalar()
        db.state(restored).engine.dispose()  # before the database is dropped
    db.state(original).engine.dispose()


@pytest.mark.parametrize("committed_database", ["sqlite"], indirect=True)
def test_an_online_sqlite_backup_restores_and_passes_the_checks(committed_database, tmp_path):
    original = _filled_app(committed_database)
    source = committed_database.removeprefix("sqlite:///")
    backup = tmp_path / "backup.sqlite3"
    with original.app_context():  # the app keeps its connections open, as a running server would
        db.session.execute(text("SELECT 1"))
        with contextlib.closing(sqlite3.connect(source)) as live, contextlib.closing(sqlite3.connect(backup)) as copy:
            live.backup(copy)
    restored_file = tmp_path / "restored" / "assembly.sqlite3"
    restored_file.parent.mkdir()
    shutil.copyfile(backup, restored_file)
    restored = create_app(app_config(f"sqlite:///{restored_file}"))
    _integrity_checks_pass(restored)
    assert fingerprint(snapshot(restored)) == fingerprint(snapshot(original))
