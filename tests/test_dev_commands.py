"""The development commands: `make run PORT=…` puts its own address into links, e-mails and
letters, and `flask db upgrade` says what it did (issue 11 point 16)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assembly import create_app
from tests.support import app_config

ROOT = Path(__file__).resolve().parent.parent


def _base_url(*make_args: str, **env: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    clean = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "ASSEMBLY_BASE_URL")} | env
    shown = subprocess.run(["make", "-s", "--no-print-directory", "--eval",
                            "show-base-url: ; @echo $(WITH_BASE_URL)", "show-base-url", *make_args],
                           cwd=ROOT, env=clean, capture_output=True, text=True, check=True, timeout=60)
    return shown.stdout.strip()


def test_make_run_links_to_the_port_it_serves_on():
    assert _base_url() == "BASE_URL=http://127.0.0.1:5000"
    assert _base_url("PORT=8000") == "BASE_URL=http://127.0.0.1:8000"
    assert _base_url("HOST=0.0.0.0", "PORT=8123") == "BASE_URL=http://127.0.0.1:8123"  # reachable here
    assert _base_url("HOST=192.168.1.20", "PORT=8000") == "BASE_URL=http://192.168.1.20:8000"


def test_a_base_url_that_is_set_wins():
    assert _base_url("PORT=8000", BASE_URL="https://meclis.example.org") == "BASE_URL=https://meclis.example.org"
    assert _base_url(ASSEMBLY_BASE_URL="https://a.example.org", BASE_URL="https://b.example.org") \
        == "BASE_URL=https://a.example.org"


def test_the_first_upgrade_says_it_created_the_database(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'new.sqlite3'}"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0 and first.output.startswith("database created"), first.output
    again = runner.invoke(args=["db", "upgrade"])
    assert again.exit_code == 0 and "database is at head" in again.output and "nothing to do" in again.output
    app.extensions["assembly_db"].engine.dispose()
