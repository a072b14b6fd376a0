"""Who a rate limit counts, as a keyed hash.

The keys are stored where other people and programs may read them (Redis, shared by the app
servers). In clear they would give away login-session tokens (enough to log in as someone),
e-mail addresses and the addresses people connect from; so every key is an HMAC of what it
counts under the app's SECRET_KEY, truncated. App servers share the secret, so they share the
counts; a reader of Redis without the secret learns nothing but how often someone was counted.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import Counter, defaultdict

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import MemoryStorage, Storage

_CONTEXT = b"assembly rate-limit key\0"


def hashed_key(kind: str, value: str) -> str:
    """`kind:` and 32 hex digits of HMAC-SHA256(SECRET_KEY, kind and value)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    message = _CONTEXT + kind.encode() + b"\0" + value.encode("utf-8", "surrogatepass")
    return f"{kind}:{hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]}"


def client_key() -> str:
    """Per client address: the default of every limit."""
    return hashed_key("client", get_remote_address() or "")


def submitted_email_key() -> str:
    """Per e-mail address typed into the form (login attempts against one account)."""
    return hashed_key("email", (request.form.get("email") or "").strip().lower())


def person_key() -> str:
    """Per person when logged in, else per client address: a whole neighbourhood may vote from
    one office's or one provider's address. Keyed on the user's id, not the login session,
    so logging in again does not give a fresh allowance."""
    if current_user.is_authenticated:
        return hashed_key("person", str(current_user.id))
    return client_key()


class SweptMemoryStorage(MemoryStorage):
    """`memory://` without a thread per request.

    The library's in-memory storage starts a 10 ms timer thread to drop expired counters
    whenever one is counted and no timer is alive: under steady traffic, a new thread for
    nearly every rate-limited request. This one drops them in the request instead, at most
    once a second (reading a counter drops it when expired anyway). It takes over the
    `memory://` scheme, so the setting and its meaning (counts per process) stay the same.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        self.storage = Counter()
        self.locks = defaultdict(threading.RLock)
        self.expirations = {}
        self.events = {}
        self._next_sweep = 0.0
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions, **options)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["locks"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.locks = defaultdict(threading.RLock)

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread
        moment = time.monotonic()
        if moment >= self._next_sweep:
            self._next_sweep = moment + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()
