"""Migrations: one head, head equals the models, down to base and up again, append-only history.

Every database test here gets a database of its own (`committed_database`, already upgraded to
head), on SQLite and on PostgreSQL, because the point is what Alembic itself builds.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect, insert, select, text
from sqlalchemy.exc import DBAPIError

from assembly import create_app
from assembly.audit.models import AuditEvent
from assembly.cli import alembic_config, upgrade_database
from assembly.db import db, make_engine, utcnow
from assembly.models import Base
from assembly.proposals.search import is_search_index
from tests import factories
from tests.support import app_config

BACKENDS = pytest.mark.parametrize("committed_database", ["sqlite", "postgresql"], indirect=True)

# Tables created by the first revision: their rows must survive every later downgrade.
FOUNDATION_TABLES = ("users", "municipalities", "neighbourhoods", "bodies", "body_staff", "memberships",
                     "audit_events")


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _revisions_head_first() -> list[str]:
    return [revision.revision for revision in _script().walk_revisions()]


def _not_search_index(name, type_, _parents) -> bool:
    # The word-search index (FTS5 table, GIN index) is made by a revision, not by the models.
    return not (type_ in ("table", "index") and is_search_index(name))


def _schema_differences(url: str) -> list:
    """What `alembic revision --autogenerate` would write if run against this database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # compare_server_default is on: the revisions spell defaults the way the models do
            # ('0', sa.false()), and neither SQLite nor PostgreSQL reports a false difference for
            # them. If a future default does differ only in how a dialect echoes it back, narrow
            # this with a `compare_server_default` callable for that column rather than
            # switching the comparison off for every column.
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True,
                                  "include_name": _not_search_index})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _reflect(url: str, read):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return read(connection)
    finally:
        engine.dispose()


def _check_constraints(url: str) -> tuple[dict, dict]:
    """Named CHECK constraints per table: (in the models, in the database).

    compare_metadata does not look at CHECK constraints, yet the statuses and rules rely on them.
    Only names are compared: PostgreSQL rewrites the expression text (`x IN (...)` comes back as
    `x::text = ANY (ARRAY[...])`), so comparing texts would only test the dialect.
    """
    wanted = {table.name: {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
              for table in Base.metadata.sorted_tables}

    def read(connection):
        inspector = inspect(connection)
        return {name: {c["name"] for c in inspector.get_check_constraints(name)}
                for name in inspector.get_table_names() if name in wanted}

    return wanted, _reflect(url, read)


def _partial_indexes(url: str) -> tuple[set, set]:
    """Indexes with a WHERE clause: (in the models, in the database). Alembic does not compare these."""
    def read(connection):
        dialect = connection.dialect.name
        inspector = inspect(connection)
        tables = set(inspector.get_table_names()) & set(Base.metadata.tables)
        found = {index["name"] for table in tables for index in inspector.get_indexes(table)
                 if index.get("dialect_options", {}).get(f"{dialect}_where") is not None}
        wanted = {index.name for table in Base.metadata.sorted_tables for index in table.indexes
                  if index.dialect_kwargs.get(f"{dialect}_where") is not None}
        return wanted, found

    return _reflect(url, read)


def _assert_schema_matches_models(url: str) -> None:
    differences = _schema_differences(url)
    assert differences == [], "the migrations do not build the models' schema:\n" + "\n".join(
        map(repr, differences))
    wanted, found = _check_constraints(url)
    assert found == wanted
    wanted_partial, found_partial = _partial_indexes(url)
    assert found_partial == wanted_partial


def _triggers(url: str) -> set[str]:
    """Triggers guard the history tables; SQLite loses them silently when a batch operation
    rebuilds a table, and autogenerate cannot see them, so they are compared separately."""
    def read(connection):
        if connection.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return set(connection.execute(text(query)).scalars())

    return _reflect(url, read)


def _leftovers(url: str) -> list[str]:
    """Schema objects other than Alembic's own bookkeeping table."""
    def read(connection):
        if connection.dialect.name == "sqlite":
            rows = connection.execute(text(
                "SELECT type || ' ' || name FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"))
            return sorted(rows.scalars())
        inspector = inspect(connection)
        objects = [f"table {name}" for name in inspector.get_table_names() if name != "alembic_version"]
        objects += [f"view {name}" for name in inspector.get_view_names()]
        objects += [f"sequence {name}" for name in inspector.get_sequence_names()]
        objects += [f"function {name}" for name in connection.execute(text(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'")).scalars()]
        objects += [f"type {name}" for name in connection.execute(text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype = 'e'")).scalars()]
        return sorted(objects)

    return _reflect(url, read)


def _seed(url: str) -> None:
    """A small, connected world made through the services (rows in every foundation table)."""
    app = create_app(app_config(url))
    try:
        with app.app_context():
            hood = factories.neighbourhood(slug="moda")
            factories.resident(hood)
            factories.pending(hood)
            factories.staff(factories.body(hood.municipality))
            db.session.commit()
    finally:
        app.extensions["assembly_db"].engine.dispose()


def _snapshot(url: str) -> dict:
    """The ids in every foundation table, and the users' e-mail addresses."""
    def read(connection):
        found = {table: connection.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
                 for table in FOUNDATION_TABLES}
        found["emails"] = connection.execute(text("SELECT email FROM users ORDER BY id")).scalars().all()
        return found

    return _reflect(url, read)


def test_there_is_exactly_one_head():
    heads = _script().get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: merge them (alembic merge) into one"


def test_the_history_is_one_line_from_one_base():
    revisions = _revisions_head_first()
    bases = _script().get_bases()
    assert len(bases) == 1, f"several base revisions {bases}"
    assert revisions[-1] == bases[0]


@BACKENDS
def test_upgrade_head_on_a_fresh_database_builds_the_models_schema(committed_database):
    _assert_schema_matches_models(committed_database)


@BACKENDS
def test_downgrade_to_base_and_upgrade_again(committed_database):
    url = committed_database
    config = alembic_config(url)
    triggers = _triggers(url)
    assert any("audit_events" in name for name in triggers), triggers
    _seed(url)
    before = _snapshot(url)
    assert all(before[table] for table in FOUNDATION_TABLES), before

    # Step down one revision at a time: the foundation rows must survive every step.
    for revision in _revisions_head_first()[1:]:
        alembic_command.downgrade(config, revision)
        assert _snapshot(url) == before, f"rows lost when downgrading to {revision}"

    upgrade_database(url)
    assert _snapshot(url) == before
    _assert_schema_matches_models(url)
    assert _triggers(url) == triggers

    alembic_command.downgrade(config, "base")
    assert _leftovers(url) == []

    upgrade_database(url)
    _assert_schema_matches_models(url)
    assert _triggers(url) == triggers
    _assert_audit_events_append_only(url)


def _insert_audit_event(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return connection.execute(insert(AuditEvent.__table__).values(
                created_at=utcnow(), action="test.append_only", object_type="Test", detail={"n": 1},
            ).returning(AuditEvent.__table__.c.id)).scalar_one()
    finally:
        engine.dispose()


def _refused(url: str, statement: str, event_id: int) -> str:
    """Run a statement in its own transaction; return the database's error message."""
    engine = make_engine(url)
    try:
        with pytest.raises(DBAPIError) as caught:
            with engine.begin() as connection:
                connection.execute(text(statement), {"id": event_id})
        return str(caught.value.orig)
    finally:
        engine.dispose()


def _assert_audit_events_append_only(url: str) -> None:
    event_id = _insert_audit_event(url)
    table = AuditEvent.__table__
    assert "append-only" in _refused(url, "UPDATE audit_events SET action = 'tampered' WHERE id = :id", event_id)
    assert "append-only" in _refused(url, "DELETE FROM audit_events WHERE id = :id", event_id)
    assert "append-only" in _refused(url, "DELETE FROM audit_events WHERE id >= :id", event_id)
    kept = _reflect(url, lambda connection: connection.execute(
        select(table.c.action, table.c.detail).where(table.c.id == event_id)).one())
    assert tuple(kept) == ("test.append_only", {"n": 1})


@BACKENDS
def test_audit_events_refuse_update_and_delete_in_the_database(committed_database):
    _assert_audit_events_append_only(committed_database)


@BACKENDS
def test_audit_events_still_accept_new_rows(committed_database):
    first = _insert_audit_event(committed_database)
    second = _insert_audit_event(committed_database)
    assert second > first


# --- 0006: hiding is about display --------------------------------------------------------------

def _hidden_world(url: str) -> dict:
    """At head, through the services: proposals hidden while open and after a vote, and one voted
    and restored. Returns their ids, the hide time and the session's title."""
    from assembly.proposals import moderation
    from tests import assembly_factories as af

    app = create_app(app_config(url))
    try:
        with app.app_context():
            s = af.voting_open("yes_no", "open", items=2, voters=1)
            af.closed(s, [af.yes_no(s, "yes", "yes")])
            voted, restored = s.proposals
            open_one = af.ready_proposal(s.w)
            withdrawn_one = af.ready_proposal(s.w)
            hide_at = af.CLOSES + af.HOUR
            for proposal in (open_one, voted, restored):
                moderation.hide(s.muhtar, hide_at, proposal, "Phone number")
            moderation.restore(s.muhtar, hide_at, restored, "Removed")
            world = {"open": open_one.id, "voted": voted.id, "restored": restored.id, "withdrawn": withdrawn_one.id,
                     "hide_at": hide_at, "session": s.assembly.title}
            db.session.commit()
            return world
    finally:
        app.extensions["assembly_db"].engine.dispose()


def _execute(url: str, statement: str, **params) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def _utc(value):
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _proposal_states(url: str, columns: str) -> dict[int, tuple]:
    typed = {"hidden_at": sa.DateTime(timezone=True)}

    def read(connection):
        query = text(f"SELECT id, {columns} FROM proposals").columns(
            sa.column("id", sa.Integer), *[sa.column(name.strip(), typed.get(name.strip(), sa.String))
                                           for name in columns.split(",")])
        return {row[0]: tuple(row[1:]) for row in connection.execute(query)}

    return _reflect(url, read)


@BACKENDS
def test_0006_turns_the_hidden_status_into_hidden_at_and_finishes_votes_it_held_up(committed_database):
    url = committed_database
    config = alembic_config(url)
    world = _hidden_world(url)

    alembic_command.downgrade(config, "0005")
    states = _proposal_states(url, "status, status_before_hidden")
    assert states[world["open"]] == ("hidden", "open") and states[world["voted"]] == ("hidden", "accepted")
    assert states[world["restored"]] == ("accepted", None)
    # What the code before 0006 did: a ballot that closed while its item was hidden did not move it,
    # so it stayed 'on_agenda' while hidden and after being restored.
    _execute(url, "UPDATE proposals SET status_before_hidden = 'on_agenda' WHERE id = :id", id=world["voted"])
    _execute(url, "UPDATE proposals SET status = 'on_agenda' WHERE id = :id", id=world["restored"])
    # Hidden without a logged action, and a reason left behind on a shown proposal.
    _execute(url, "UPDATE proposals SET status = 'hidden', status_before_hidden = 'withdrawn', "
                  "hidden_reason = 'Old' WHERE id = :id", id=world["withdrawn"])
    _execute(url, "UPDATE proposals SET hidden_reason = 'Left behind' WHERE id = :id", id=world["restored"])
    events_before = _reflect(url, lambda c: c.execute(text("SELECT count(*) FROM proposal_events")).scalar())

    before_upgrade = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    upgrade_database(url)
    _assert_schema_matches_models(url)
    states = _proposal_states(url, "status, hidden_at, hidden_reason")
    hide_at = _utc(world["hide_at"])
    assert (states[world["open"]][0], _utc(states[world["open"]][1])) == ("open", hide_at)
    assert (states[world["voted"]][0], _utc(states[world["voted"]][1])) == ("accepted", hide_at)
    assert states[world["restored"]] == ("accepted", None, None)
    status, hidden_at, reason = states[world["withdrawn"]]
    assert (status, reason) == ("withdrawn", "Old") and _utc(hidden_at) >= before_upgrade
    appended = _reflect(url, lambda c: c.execute(text(
        "SELECT proposal_id, actor_id, from_status, to_status, reason FROM proposal_events "
        "ORDER BY id DESC LIMIT 2")).all())
    assert sorted(map(tuple, appended)) == sorted(
        [(world[key], None, "on_agenda", "accepted", world["session"]) for key in ("voted", "restored")])
    assert _reflect(url, lambda c: c.execute(text("SELECT count(*) FROM proposal_events")).scalar()) == \
        events_before + 2

    alembic_command.downgrade(config, "0005")
    states = _proposal_states(url, "status, status_before_hidden")
    assert states[world["open"]] == ("hidden", "open") and states[world["voted"]] == ("hidden", "accepted")
    assert states[world["withdrawn"]] == ("hidden", "withdrawn") and states[world["restored"]] == ("accepted", None)


# --- 0022: PostgreSQL's word index for search ------------------------------------------------------

def _search_titles(url: str, query: str) -> set[str]:
    from assembly.neighbourhoods.models import Neighbourhood
    from assembly.proposals import services
    from assembly.proposals.services import ProposalFilters

    app = create_app(app_config(url))
    try:
        with app.app_context():
            hood = db.session.scalar(select(Neighbourhood).where(Neighbourhood.slug == "words"))
            return {p.title for p in services.list_proposals(None, hood, ProposalFilters(query=query)).items}
    finally:
        app.extensions["assembly_db"].engine.dispose()


@BACKENDS
def test_0022_indexes_the_proposals_already_there(committed_database):
    from tests import proposal_factories as pf

    url = committed_database
    app = create_app(app_config(url))
    try:
        with app.app_context():
            w = pf.world(slug="words")
            first = pf.proposal(w, title="Kaldırım taşları", body="Kırık")
            pf.proposal(w, title="Çeşme", body="Akmıyor")
            first_id = first.id
            db.session.commit()
    finally:
        app.extensions["assembly_db"].engine.dispose()
    alembic_command.downgrade(alembic_config(url), "0017_meeting_commitment")
    # An edit made before the upgrade, with no word index to follow it.
    _execute(url, "UPDATE proposals SET search_key = 'kaldirim taslari yeni sokak' WHERE id = :id", id=first_id)
    upgrade_database(url)
    assert _search_titles(url, "SOKAK") == {"Kaldırım taşları"}
    assert _search_titles(url, "kırık") == set()
    assert _search_titles(url, "çeşme") == {"Çeşme"}
    assert _search_titles(url, "akmiyor") == {"Çeşme"}
