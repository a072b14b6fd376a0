"""Who a rate limit counts, as a keyed hash.

The keys are stored where other people and programs may read them (Redis, shared by the app
servers). In clear they would give away login-session tokens (enough to log in as someone),
e-mail addresses and the addresses people connect from; so every key is an HMAC of what it
counts under the app's SECRET_KEY, truncated. App servers share the secret, so they share the
counts; a reader of Redis without the secret learns nothing but how often someone was counted.

The client address is `request.remote_addr`: behind a reverse proxy it is the address the
trusted proxies (setting TRUSTED_PROXIES, Werkzeug's ProxyFix) report, never a forwarded
address a client wrote itself.

Which limit counts what (numbers in docs/configuration.md): every limit of a form that is sent
without logging in counts per client address, at levels a meeting of 30 people on one Wi-Fi does
not reach; what a logged-in person does counts per person; the muhtar's desk counts per muhtar.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import after_this_request, current_app, request, session
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.storage import Storage
from werkzeug.exceptions import TooManyRequests

T = TypeVar("T")

_CONTEXT = b"assembly rate-limit key\0"


def hashed_key(kind: str, value: str) -> str:
    """`kind:` and 32 hex digits of HMAC-SHA256(SECRET_KEY, kind and value)."""
    return _hashed_key(current_app.config["SECRET_KEY"], kind, value)


@functools.lru_cache(maxsize=4096)  # the same people and addresses come back: one HMAC each per process
def _hashed_key(secret: str | bytes, kind: str, value: str) -> str:
    secret = secret if isinstance(secret, bytes) else secret.encode()
    message = _CONTEXT + kind.encode() + b"\0" + value.encode("utf-8", "surrogatepass")
    return f"{kind}:{hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]}"


def client_address() -> str:
    return request.remote_addr or ""


def client_key() -> str:
    """Per client address: the default of every limit."""
    return hashed_key("client", client_address())


def _submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()


def submitted_email_key() -> str:
    """Per e-mail address typed into the form, from wherever it comes (mails sent to one address)."""
    return hashed_key("email", _submitted_email())


def submitted_phone_key() -> str:
    """Per phone number typed into the form (or waiting for its code in the session): codes sent
    to one number, from wherever they are asked for. Only the last nine digits count, so that
    spelling a number differently (with or without +90, spaces) does not give a fresh allowance."""
    typed = request.form.get("phone") or request.form.get("email") or session.get("phone_to_confirm") or ""
    return hashed_key("phone", re.sub(r"[^0-9]", "", typed)[-9:])


def login_account_key() -> str:
    """Per account typed into the login form *and* client address. A count per account alone
    would let anyone lock the owner out by failing on purpose from elsewhere; this one only
    slows down whoever fails, and the per-address limit bounds how many accounts one address tries."""
    return hashed_key("email", _submitted_email() + "\0" + client_address())


def failed_form(response) -> bool:
    """Count only refused submissions (a form shown again with errors answers 400)."""
    return response.status_code == 400


def person_key() -> str:
    """Per person when logged in, else per client address: a whole neighbourhood may vote from
    one office's or one provider's address. Keyed on the user's id, not the login session,
    so logging in again does not give a fresh allowance."""
    user = current_user._get_current_object()
    if user.is_authenticated:
        return hashed_key("person", str(user.id))
    return client_key()


@functools.lru_cache(maxsize=64)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(limits)))


def hot_limit(setting: str, key_func: Callable[[], str] = person_key):
    """A rate limit for a hot view (the vote), counted in the limiter's storage and strategy with
    the same keys as `limiter.limit(…)` would use, but without Flask-Limiter's per-request
    resolution of every limit that might apply: one counter increment per limit in `setting`.
    Over the limit: 429 (the translated page) with `Retry-After`; every answer carries the
    `X-RateLimit-*` headers, as the limiter's own do. The view's blueprint must have no limit of
    its own: Flask-Limiter leaves the view to this decorator (`counted_by_hot_limit`)."""

    def decorator(view: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> T:
            # The app's one limiter, as Flask-Limiter registers it (assembly.extensions imports
            # this module, so importing the limiter from there would close an import circle); a
            # limiter switched off (RATELIMIT_ENABLED false) registers nothing.
            limiters = current_app.extensions.get("limiter")
            limiter = next(iter(limiters)) if limiters else None
            if limiter is None or not limiter.enabled:
                return view(*args, **kwargs)
            strategy = limiter.limiter
            identifiers = [key_func(), request.endpoint]
            prefix = current_app.config.get("RATELIMIT_KEY_PREFIX")
            if prefix:
                identifiers.insert(0, prefix)
            items = _parsed(current_app.config[setting])
            breached = next((item for item in items if not strategy.hit(item, *identifiers)), None)
            shown = breached or items[0]

            @after_this_request
            def headers(response):
                reset, remaining = strategy.get_window_stats(shown, *identifiers)
                reset = int(reset + 1)
                response.headers.add("X-RateLimit-Limit", str(shown.amount))
                response.headers.add("X-RateLimit-Remaining", str(remaining))
                response.headers.add("X-RateLimit-Reset", str(reset))
                response.headers.add("Retry-After", str(max(0, int(reset - time.time()))))
                return response

            if breached is not None:
                raise TooManyRequests()
            return view(*args, **kwargs)

        limited.hot_limited = True
        return limited

    return decorator


def counted_by_hot_limit() -> bool:
    """Flask-Limiter's request filter: a view under `hot_limit` counts its own limits, so the
    limiter does not resolve its (empty) list of limits for every such request."""
    return getattr(current_app.view_functions.get(request.endpoint or ""), "hot_limited", False)


class ProcessMemoryStorage(Storage):
    """The limiter's counters in this process's memory (fixed windows), for `memory://`.

    The `limits` library's own memory store starts a timer thread to expire keys after nearly
    every hit; this one expires keys when they are read and sweeps the expired ones at most once
    a minute, in the request that comes along: no thread is ever started. Counts are per process,
    so production refuses it when more than one process serves (see config.WEB_CONCURRENCY).
    """

    STORAGE_SCHEME = ["assembly-memory"]
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key: (count, expires at, epoch seconds)
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        if now >= self._next_sweep:
            self._counts = {key: entry for key, entry in self._counts.items() if entry[1] > now}
            self._next_sweep = now + self.SWEEP_SECONDS

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._sweep(now)
            count, expires = self._live(key, now) or (0, now + expiry)
            self._counts[key] = (count + amount, expires)
            return count + amount

    def get(self, key: str) -> int:
        with self._lock:
            entry = self._live(key, time.time())
            return entry[0] if entry else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._lock:
            entry = self._live(key, now)
            return entry[1] if entry else now

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._counts)

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counts)
            self._counts.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
