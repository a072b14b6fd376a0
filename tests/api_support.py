"""Shared set-up of the API and Open311 tests: committed data and API tokens."""
from __future__ import annotations

import datetime as dt

from assembly.cases import api_tokens
from tests import factories
from tests.support import committed  # noqa: F401 - re-exported for the API tests

DAY = dt.timedelta(days=1)


def token_for(staff, body, name: str = "Council IT") -> str:
    _token, secret = api_tokens.create_token(staff, factories.now(), body, name)
    return secret


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}
