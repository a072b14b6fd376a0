"""`flask demo load`: the demonstration municipalities."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from assembly.cli import done
from assembly.db import db, utcnow
from assembly.demo import load_demo
from assembly.neighbourhoods.models import Municipality

group = AppGroup("demo", help="Demonstration data.")


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Municipality))


@group.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database has no municipality yet.")
def load(if_empty):
    """Load the demo municipalities, neighbourhoods and people."""
    if not current_app.config["LOAD_DEMO_DATA"]:
        click.echo("demo data is switched off (LOAD_DEMO_DATA=0)")
        return
    if if_empty and not database_is_empty():
        click.echo("database already has data; demo not loaded")
        return
    done(load_demo(utcnow()))
