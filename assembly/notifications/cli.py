"""`flask mail …`: the e-mail outbox and the daily digest."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from assembly.cli import done
from assembly.db import db, utcnow
from assembly.scheduling import exclusive
from assembly.notifications.services import send_digests, send_pending

group = AppGroup("mail", help="The e-mail outbox.")


@group.command("send")
@click.option("--loop", is_flag=True, help="Keep running, polling every few seconds.")
@click.option("--interval", default=5.0, show_default=True)
def send(loop, interval):
    """Send queued e-mails (printed to the console when SMTP_HOST is not set)."""
    while True:
        sent, failed = send_pending(utcnow())
        if sent or failed or not loop:
            click.echo(f"sent {sent}, failed {failed}")
        if not loop:
            break
        db.session.close()
        time.sleep(interval)


@group.command("digest")
def digest():
    """Queue the daily summaries for people who chose a daily digest (run once a day)."""
    with exclusive("mail-digest") as mine:
        if not mine:
            click.echo("another server is queuing the digests")
            return
        done(f"queued {send_digests(utcnow())} digests")
