"""Shared set-up of the API and Open311 tests: committed data and API tokens."""
from __future__ import annotations

import contextlib
import datetime as dt

from assembly.cases import api_tokens
from assembly.db import db
from tests import factories

DAY = dt.timedelta(days=1)


@contextlib.contextmanager
def committed(app):
    """Set up data in an app context of its own and commit it, as a request would."""
    with app.app_context():
        yield
        db.session.commit()


def token_for(staff, body, name: str = "Council IT") -> str:
    _token, secret = api_tokens.create_token(staff, factories.now(), body, name)
    return secret


def bearer(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}
