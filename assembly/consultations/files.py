"""Where the consultations' uploaded PDF files live: the setting CONSULTATION_FILES_DIR, by
default `consultations/` under the instance folder (beside the SQLite database and the keys),
never under static/. Operators back it up with the database (docs/consultations.md)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app


def folder() -> Path:
    return Path(current_app.config["CONSULTATION_FILES_DIR"])
