"""A throw-away demo site for the browser tests and the screenshot tour.

A fresh SQLite database in a directory of its own, brought up to date with the
migrations, filled with the demo data and served by a real WSGI server on
127.0.0.1 in a background thread. The app runs in this process, so a caller can
also reach the same database through `app.app_context()`.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

from assembly import create_app
from assembly.cli import upgrade_database
from assembly.db import db, utcnow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str | None:
    """The Chromium to drive: ASSEMBLY_CHROMIUM, else the Debian package's; None when missing."""
    path = os.environ.get("ASSEMBLY_CHROMIUM") or CHROMIUM
    return path if Path(path).exists() or shutil.which(path) else None


def demo_config(database_url: str, **overrides) -> dict:
    config = {
        "ASSEMBLY_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "browser-tests-secret-key-" + "x" * 32,
        "WTF_CSRF_ENABLED": True,  # browsers submit real forms, with their tokens
        "RATELIMIT_ENABLED": False,
        "LOAD_DEMO_DATA": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "MAP_TILE_URL": "",  # no network: the maps work without tiles
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


class DemoServer:
    """The demo site on http://127.0.0.1:<free port>, until `stop()`."""

    def __init__(self, directory: Path, **config) -> None:
        self.directory = Path(directory)
        self.config_overrides = config
        self.app = None
        self.url = ""
        self._server = None
        self._thread = None

    def start(self) -> DemoServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{self.directory / 'demo.sqlite3'}"
        upgrade_database(database_url)
        # Bind first, so the app knows its own address (BASE_URL is used in mails and feeds).
        self._server = make_server("127.0.0.1", 0, None, threaded=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.app = create_app(demo_config(database_url, BASE_URL=self.url, **self.config_overrides))
        self._server.app = self.app
        with self.app.app_context():
            from assembly.demo import load_demo

            load_demo(utcnow())
            db.session.commit()
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.app is not None:
            self.app.extensions["assembly_db"].engine.dispose()


def launch_chromium(playwright, **options):
    """Headless Debian Chromium (never a downloaded browser)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (set ASSEMBLY_CHROMIUM to another path)")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS, **options)
