"""Actors that are not a logged-in person: the command line acting as an administrator."""
from __future__ import annotations


class SystemActor:
    """The actor of command-line set-up: an administrator without an account."""

    id = None
    is_admin = True
    is_authenticated = True
    display_name = "system"
    locale = "en"
