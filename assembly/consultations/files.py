"""Where the consultations' uploaded PDF files live: `consultations/` under the instance folder
(beside the SQLite database and the keys), never under static/. Operators back it up with the
database (docs/consultations.md)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app


def folder() -> Path:
    return Path(current_app.instance_path) / "consultations"
