"""`flask setup …`: setting up a municipality from the command line (admins, neighbourhoods,
bodies, categories, appointments). Every command calls the same service as the admin pages."""
from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup
from sqlalchemy import select

from assembly.accounts import services as accounts
from assembly.cli import done, run_as_system
from assembly.db import db, utcnow
from assembly.errors import DomainError
from assembly.neighbourhoods import directory, structure
from assembly.neighbourhoods.models import Body, Municipality

group = AppGroup("setup", help="Set up the municipality: admins, neighbourhoods, bodies, categories, appointments.")


def _municipality(code: str) -> Municipality:
    found = db.session.scalar(select(Municipality).where(Municipality.code == code.upper()))
    if found is None:
        raise click.ClickException(f"no municipality with code {code}")
    return found


def _body(municipality_code: str, slug: str) -> Body:
    owner = _municipality(municipality_code)
    body = db.session.scalar(select(Body).where(Body.municipality_id == owner.id, Body.slug == slug))
    if body is None:
        raise click.ClickException(f"no body {slug} in {owner.code}")
    return body


def _person(email: str):
    try:
        return directory.user_by_email(email)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None


def _names(pairs: tuple[str, ...]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in pairs if "=" in item)


@group.command("create-admin")
@click.argument("email")
@click.argument("display_name")
def create_admin(email, display_name):
    """Create an administrator account (or make an existing account one)."""
    password = getpass.getpass("Password: ")
    try:
        user = accounts.make_admin(email, display_name, password, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    done(f"{user.email} is an administrator")


@group.command("municipality")
@click.argument("code")
@click.argument("name")
@click.option("--timezone", default="Europe/Istanbul", show_default=True)
@click.option("--locale", default="tr", show_default=True)
def add_municipality(code, name, timezone, locale):
    """Create a municipality."""
    created = run_as_system(structure.create_municipality, code=code, name=name, timezone=timezone,
                            default_locale=locale)
    done(f"municipality {created.code} created")


@group.command("neighbourhood")
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
    created = run_as_system(structure.create_neighbourhood, municipality=_municipality(municipality_code),
                            slug=slug, code=code, names=_names(names), default_locale=locale,
                            quorum_percent=quorum, majority=majority, support_threshold=threshold)
    done(f"neighbourhood {created.slug} created")


@group.command("body")
@click.argument("municipality_code")
@click.argument("slug")
@click.argument("name")
@click.option("--kind", default="council", show_default=True)
@click.option("--answer-days", default=30, show_default=True)
def add_body(municipality_code, slug, name, kind, answer_days):
    """Create a body (council, police, utility …)."""
    created = run_as_system(structure.create_body, municipality=_municipality(municipality_code), slug=slug,
                            name=name, kind=kind, answer_days=answer_days)
    done(f"body {created.slug} created (id {created.id})")


@group.command("category")
@click.argument("municipality_code")
@click.argument("slug")
@click.option("--name", "names", multiple=True, help="LOCALE=NAME, repeatable")
@click.option("--body", "body_slug", default=None, help="slug of the default body")
def add_category(municipality_code, slug, names, body_slug):
    """Create a category with its default recipient body."""
    owner = _municipality(municipality_code)
    body = _body(municipality_code, body_slug) if body_slug else None
    created = run_as_system(structure.create_category, municipality=owner, slug=slug, names=_names(names),
                            default_body=body)
    done(f"category {created.slug} created")


@group.command("appoint-muhtar")
@click.argument("slug")
@click.argument("email")
def appoint_muhtar(slug, email):
    """Appoint the person with EMAIL as muhtar of neighbourhood SLUG."""
    try:
        neighbourhood = directory.get_neighbourhood(slug)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    run_as_system(structure.appoint_muhtar, neighbourhood, _person(email))
    done(f"{email} is muhtar of {slug}")


@group.command("appoint-staff")
@click.argument("municipality_code")
@click.argument("body_slug")
@click.argument("email")
def appoint_staff(municipality_code, body_slug, email):
    """Add the person with EMAIL to the staff of a body."""
    body = _body(municipality_code, body_slug)
    run_as_system(structure.appoint_staff, body, _person(email))
    done(f"{email} is on the staff of {body.name}")
