"""What a deployment behind a reverse proxy and a load balancer needs from the app: the client's
real address, scheme and host from the trusted proxies, and a health check.

See docs/operations.md for the nginx site and the systemd units.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from assembly.db import db
from assembly.extensions import limiter

log = logging.getLogger(__name__)
bp = Blueprint("deployment", __name__)


def init_app(app: Flask) -> None:
    """Trust the last TRUSTED_PROXIES entries of X-Forwarded-For, -Proto and -Host.

    With 0 (the default) the headers are ignored: the client address is the peer of the
    connection, so a client cannot choose the address its rate limits count under. With 1 (nginx
    on the app server or in front of it) the address nginx appends is used; with 2 (a load
    balancer in front of nginx) the one the load balancer appended, and so on. A number larger than
    the real chain lets clients forge their address; a smaller one counts everyone as the proxy."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.register_blueprint(bp)


def _database_reachable() -> bool:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - reported as unreachable; the cause goes to the log only
        log.exception("health check: the database is not reachable")
        return False


def _limiter_store() -> str:
    """`ok` or `unreachable` for a shared store (Redis), `process` for this process's own memory,
    `disabled` without rate limits."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return "disabled"
    storage = limiter.storage
    if getattr(storage, "STORAGE_SCHEME", None) and "assembly-memory" in storage.STORAGE_SCHEME:
        return "process"
    try:
        return "ok" if storage.check() else "unreachable"
    except Exception:  # noqa: BLE001 - as above
        log.exception("health check: the rate-limit store is not reachable")
        return "unreachable"


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """For load balancers: 200 when this server can reach the database and the rate-limit store,
    503 otherwise. Names no host, no setting and no data."""
    checks = {"database": "ok" if _database_reachable() else "unreachable", "limiter_store": _limiter_store()}
    healthy = "unreachable" not in checks.values()
    response = jsonify({"status": "ok" if healthy else "unavailable", **checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
