"""Command-line interface: `flask --app wsgi <group> <command>`."""
from __future__ import annotations

import getpass
import json
import logging
import time
from pathlib import Path

import click
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from sqlalchemy import func, select

from assembly import integrity, tally
from assembly.accounts import services as accounts
from assembly.actors import SystemActor
from assembly.assemblies.models import Assembly
from assembly.assemblies.services import due_assemblies
from assembly.assemblies.voting import advance
from assembly.cases.services import verify_all
from assembly.db import db, utcnow
from assembly.demo import load_demo
from assembly.errors import DomainError
from assembly.neighbourhoods import services
from assembly.neighbourhoods.models import Body, Municipality
from assembly.notifications.services import send_digests, send_pending

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["database_url"] = url
    return config


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    alembic_command.upgrade(alembic_config(url or current_app.config["DATABASE_URL"]), revision)


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Municipality))


def _done(message: str) -> None:
    db.session.commit()
    click.echo(message)


def tick_assemblies(now) -> tuple[int, int]:
    """Advance every due session, each in a transaction of its own, so one that cannot be
    counted (an envelope that does not open) is reported and does not hold up the others."""
    due_ids = [assembly.id for assembly in due_assemblies(now)]
    db.session.rollback()
    advanced = failed = 0
    for assembly_id in due_ids:
        try:
            assembly = db.session.get(Assembly, assembly_id)
            advance(assembly, now)
            db.session.commit()
            advanced += 1
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            db.session.rollback()
            log.exception("session %s could not be advanced", assembly_id)
            failed += 1
    db.session.close()
    return advanced, failed


def register_commands(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema (Alembic migrations)."""

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision):
        """Apply migrations up to REVISION (default: head)."""
        upgrade_database(revision=revision)
        click.echo("database is at " + revision)

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision):
        """Revert migrations down to REVISION."""
        alembic_command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)

    @app.cli.group("demo")
    def demo_group():
        """Demonstration data."""

    @demo_group.command("load")
    @click.option("--if-empty", is_flag=True, help="Only when the database has no municipality yet.")
    def demo_load(if_empty):
        """Load the demo municipalities, neighbourhoods and people."""
        if not current_app.config["LOAD_DEMO_DATA"]:
            click.echo("demo data is switched off (LOAD_DEMO_DATA=0)")
            return
        if if_empty and not database_is_empty():
            click.echo("database already has data; demo not loaded")
            return
        report = load_demo(utcnow())
        _done(report)

    @app.cli.group("mail")
    def mail_group():
        """The e-mail outbox."""

    @mail_group.command("send")
    @click.option("--loop", is_flag=True, help="Keep running, polling every few seconds.")
    @click.option("--interval", default=5.0, show_default=True)
    def mail_send(loop, interval):
        """Send queued e-mails (printed to the console when SMTP_HOST is not set)."""
        while True:
            sent, failed = send_pending(utcnow())
            if sent or failed or not loop:
                click.echo(f"sent {sent}, failed {failed}")
            if not loop:
                break
            db.session.close()
            time.sleep(interval)

    @mail_group.command("digest")
    def mail_digest():
        """Queue the daily summaries for people who chose a daily digest (run once a day)."""
        count = send_digests(utcnow())
        _done(f"queued {count} digests")

    @app.cli.group("assemblies")
    def assemblies_group():
        """Assembly sessions."""

    @assemblies_group.command("tick")
    @click.option("--loop", is_flag=True, help="Keep running, every --interval seconds.")
    @click.option("--interval", default=20.0, show_default=True)
    def assemblies_tick(loop, interval):
        """Open and close voting windows that are due and count closed ballots (run every
        minute from cron, or with --loop; safe on several servers at once)."""
        while True:
            advanced, failed = tick_assemblies(utcnow())
            if advanced or failed or not loop:
                click.echo(f"advanced {advanced} sessions, {failed} failed")
            if not loop:
                if failed:
                    raise SystemExit(1)
                break
            time.sleep(interval)

    @app.cli.group("cases")
    def cases_group():
        """Forwarded items (cases)."""

    @cases_group.command("verify")
    def cases_verify():
        """Recompute every case's hash chain; print the first broken event per case, exit 1 if any."""
        broken = 0
        for case, problem in verify_all():
            broken += 1
            if isinstance(problem, int):
                click.echo(f"{case.reference}: event {problem} is missing")
            else:
                click.echo(f"{case.reference}: event {problem.seq} (id {problem.id}) does not match its hash chain")
        if broken:
            raise click.ClickException(f"{broken} case timeline(s) broken")
        click.echo("every case timeline is intact")

    @app.cli.group("check")
    def check_group():
        """Integrity checks."""

    @check_group.command("counters")
    def check_counters():
        """Recount every maintained counter; exit 1 and list the rows where a counter drifted."""
        mismatches = integrity.check_counters()
        for m in mismatches:
            click.echo(f"{m.counter} of row {m.row_id}: stored {m.stored}, recounted {m.recounted}")
        if mismatches:
            raise SystemExit(1)
        click.echo("all counters equal a full recount")

    @app.cli.command("recount")
    @click.argument("file", type=click.File("rb"))
    def recount(file):
        """Recount a downloaded ballots file and print its digest and result."""
        document = json.loads(file.read().decode("utf-8"))
        try:
            result = tally.tally_document(document)
        except tally.TallyError as error:
            raise click.ClickException(f"the file cannot be counted: {error}") from None
        click.echo(f"digest: {tally.digest(document)}")
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1, sort_keys=True))

    _register_setup(app)


def _register_setup(app: Flask) -> None:
    @app.cli.group("setup")
    def setup_group():
        """Set up the municipality: admins, neighbourhoods, bodies, categories, appointments."""

    def municipality(code: str) -> Municipality:
        found = db.session.scalar(select(Municipality).where(Municipality.code == code.upper()))
        if found is None:
            raise click.ClickException(f"no municipality with code {code}")
        return found

    def run(service, *args, **kwargs):
        try:
            return service(SystemActor(), utcnow(), *args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None

    @setup_group.command("create-admin")
    @click.argument("email")
    @click.argument("display_name")
    def create_admin(email, display_name):
        """Create an administrator account (or make an existing account one)."""
        password = getpass.getpass("Password: ")
        try:
            user = accounts.make_admin(email, display_name, password, utcnow())
        except Exception as error:  # noqa: BLE001 - shown to the operator
            db.session.rollback()
            raise click.ClickException(getattr(error, "message", str(error))) from None
        _done(f"{user.email} is an administrator")

    @setup_group.command("municipality")
    @click.argument("code")
    @click.argument("name")
    @click.option("--timezone", default="Europe/Istanbul", show_default=True)
    @click.option("--locale", default="tr", show_default=True)
    def add_municipality(code, name, timezone, locale):
        """Create a municipality."""
        created = run(services.create_municipality, code=code, name=name, timezone=timezone,
                      default_locale=locale)
        _done(f"municipality {created.code} created")

    @setup_group.command("neighbourhood")
    @click.argument("municipality_code")
    @click.argument("slug")
    @click.argument("code")
    @click.option("--locale", default="tr", show_default=True)
    @click.option("--name", "names", multiple=True, help="LOCALE=NAME, repeatable")
    @click.option("--quorum", default=10, show_default=True)
    @click.option("--majority", default="simple", show_default=True)
    @click.option("--threshold", default=10, show_default=True)
    def add_neighbourhood(municipality_code, slug, code, locale, names, quorum, majority, threshold):
        """Create a neighbourhood."""
        parsed = dict(item.split("=", 1) for item in names if "=" in item)
        created = run(services.create_neighbourhood, municipality=municipality(municipality_code), slug=slug,
                      code=code, names=parsed, default_locale=locale, quorum_percent=quorum,
                      majority=majority, support_threshold=threshold)
        _done(f"neighbourhood {created.slug} created")

    @setup_group.command("body")
    @click.argument("municipality_code")
    @click.argument("slug")
    @click.argument("name")
    @click.option("--kind", default="council", show_default=True)
    @click.option("--answer-days", default=30, show_default=True)
    def add_body(municipality_code, slug, name, kind, answer_days):
        """Create a body (council, police, utility …)."""
        created = run(services.create_body, municipality=municipality(municipality_code), slug=slug, name=name,
                      kind=kind, answer_days=answer_days)
        _done(f"body {created.slug} created (id {created.id})")

    @setup_group.command("category")
    @click.argument("municipality_code")
    @click.argument("slug")
    @click.option("--name", "names", multiple=True, help="LOCALE=NAME, repeatable")
    @click.option("--body", "body_slug", default=None, help="slug of the default body")
    def add_category(municipality_code, slug, names, body_slug):
        """Create a category with its default recipient body."""
        owner = municipality(municipality_code)
        body = None
        if body_slug:
            body = db.session.scalar(select(Body).where(Body.municipality_id == owner.id, Body.slug == body_slug))
            if body is None:
                raise click.ClickException(f"no body {body_slug} in {owner.code}")
        parsed = dict(item.split("=", 1) for item in names if "=" in item)
        created = run(services.create_category, municipality=owner, slug=slug, names=parsed, default_body=body)
        _done(f"category {created.slug} created")

    @setup_group.command("appoint-muhtar")
    @click.argument("slug")
    @click.argument("email")
    def appoint_muhtar(slug, email):
        """Appoint the person with EMAIL as muhtar of neighbourhood SLUG."""
        try:
            neighbourhood = services.get_neighbourhood(slug)
            user = services.user_by_email(email)
        except Exception as error:  # noqa: BLE001
            raise click.ClickException(getattr(error, "message", str(error))) from None
        run(services.appoint_muhtar, neighbourhood, user)
        _done(f"{email} is muhtar of {slug}")

    @setup_group.command("appoint-staff")
    @click.argument("municipality_code")
    @click.argument("body_slug")
    @click.argument("email")
    def appoint_staff(municipality_code, body_slug, email):
        """Add the person with EMAIL to the staff of a body."""
        owner = municipality(municipality_code)
        body = db.session.scalar(select(Body).where(Body.municipality_id == owner.id, Body.slug == body_slug))
        if body is None:
            raise click.ClickException(f"no body {body_slug} in {owner.code}")
        try:
            user = services.user_by_email(email)
        except Exception as error:  # noqa: BLE001
            raise click.ClickException(getattr(error, "message", str(error))) from None
        run(services.appoint_staff, body, user)
        _done(f"{email} is on the staff of {body.name}")
