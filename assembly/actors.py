"""Actors that are not a logged-in person: the command line acting as an administrator, and a
body acting through one of its API tokens."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: the token model lives with the cases
    from assembly.cases.models import ApiToken


class SystemActor:
    """The actor of command-line set-up: an administrator without an account."""

    id = None
    is_admin = True
    is_authenticated = True
    display_name = "system"
    locale = "en"


class ApiActor:
    """The acting party of an API request: a body, through one of its tokens."""

    is_authenticated = True
    is_admin = False
    locale = "en"

    def __init__(self, token: ApiToken) -> None:
        self.id = None
        self.api_body_id = token.body_id
        self.token_id = token.id
        self.display_name = f"API: {token.name}"
