"""`flask sms …`: the SMS outbox."""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from assembly.db import db, utcnow
from assembly.sms.services import send_pending

group = AppGroup("sms", help="The SMS outbox.")


@group.command("send")
@click.option("--loop", is_flag=True, help="Keep running, polling every few seconds.")
@click.option("--interval", default=5.0, show_default=True)
def send(loop, interval):
    """Send queued SMS (printed to the console unless SMS_BACKEND names a provider). Messages
    held for the night stay queued until the morning in the recipient's time zone."""
    while True:
        sent, failed, held = send_pending(utcnow())
        if sent or failed or held or not loop:
            click.echo(f"sent {sent}, failed {failed}, held for the night {held}")
        if not loop:
            break
        db.session.close()
        time.sleep(interval)
