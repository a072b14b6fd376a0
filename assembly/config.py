"""Configuration: defaults, then environment variables, then explicit overrides.

Every setting is listed (with its environment variable) in docs/configuration.md.
"""
from __future__ import annotations

import math
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

LOCALES = ("en", "tr", "fa", "sv")
RTL_LOCALES = frozenset({"fa"})


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot work."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _env_decimal(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number such as 2 or 0.5, got {value!r}") from exc
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return number


def defaults(instance_path: Path) -> dict:
    return {
        "ASSEMBLY_ENV": "development",
        "DATABASE_URL": f"sqlite:///{instance_path / 'assembly.sqlite3'}",
        "SQL_ECHO": False,
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        # Per client address, sized for a meeting of 30 people on one Wi-Fi (docs/configuration.md).
        "RATELIMIT_LOGIN": "60 per minute;600 per hour",
        # Failed logins into one account from one address: guessing is slow, and nobody elsewhere
        # can lock the owner out by failing on purpose.
        "RATELIMIT_LOGIN_ACCOUNT": "5 per minute;20 per hour",
        "RATELIMIT_REGISTER": "60 per hour;300 per day",
        "RATELIMIT_REGISTER_EMAIL": "3 per hour;10 per day",
        "RATELIMIT_RESET": "20 per 10 minutes;60 per hour",
        "RATELIMIT_RESET_EMAIL": "3 per hour;10 per day",
        # Asking to join and entering invitation codes: per person, and per address against codes
        # being guessed with many accounts.
        "RATELIMIT_JOIN": "10 per minute;30 per hour",
        "RATELIMIT_JOIN_ADDRESS": "120 per hour",
        # The muhtar's desk (approving, rejecting, invitation letters): per muhtar, never per address.
        "RATELIMIT_MUHTAR": "60 per minute;600 per hour",
        "TRUSTED_PROXIES": 0,
        "WEB_CONCURRENCY": 1,
        "HSTS_MAX_AGE": 365 * 24 * 3600,
        "RATELIMIT_WRITE": "30 per minute;300 per hour",
        "RATELIMIT_VOTE": "60 per minute",
        "RATELIMIT_API": "600 per minute",
        # Printable documents as PDF (about a second of a worker each), per person or address.
        "RATELIMIT_PDF": "20 per minute;200 per hour",
        "LOAD_DEMO_DATA": True,
        "DEFAULT_TIMEZONE": "UTC",
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "WTF_I18N_ENABLED": True,
        "SESSION_COOKIE_NAME": "assembly_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # The cookie is signed again only when the session changed: a login lasts LOGIN_SESSION_DAYS
        # from logging in (the server-side login session ends then too), not from the last request.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "LOGIN_SESSION_DAYS": 14,
        "PASSWORD_RESET_HOURS": 2,
        "INVITE_CODE_DAYS": 60,
        "COMMENT_EDIT_MINUTES": 15,
        "AUTO_HIDE_MIN_REPORTS": 3,
        # Survey results broken down by group (verified / unverified / paper, per neighbourhood)
        # hide a group with fewer questionnaires than this.
        "SURVEY_MIN_GROUP": 10,
        "AUTO_HIDE_REPORT_PERCENT": 2,
        "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "MAP_ATTRIBUTION": "© OpenStreetMap contributors",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # A ballots file uploaded to be recounted (read, checked, never stored) may be this large.
        "BALLOTS_FILE_MAX_BYTES": 16 * 1024 * 1024,
        # The PDF documents attached to consultations (back it up with the database).
        "CONSULTATION_FILES_DIR": str(instance_path / "consultations"),
        # Photos (docs/photos.md): how many per proposal, question or progress step, how large each
        # upload may be, how many pixels Pillow may decode (against decompression bombs), and where
        # the files are kept.
        "PHOTO_MAX_COUNT": 4,
        "PHOTO_MAX_BYTES": 8 * 1024 * 1024,
        "PHOTO_MAX_PIXELS": 40_000_000,
        "PHOTO_STORAGE": "local",
        "PHOTO_DIRECTORY": None,  # local storage: instance/photos when not set
        "PHOTO_S3_BUCKET": None,
        "PHOTO_S3_ENDPOINT_URL": None,
        "PHOTO_S3_REGION": None,
        "PHOTO_S3_ACCESS_KEY_ID": None,
        "PHOTO_S3_SECRET_ACCESS_KEY": None,
        "PHOTO_S3_PREFIX": "",
        "PHOTO_CACHE_SECONDS": 600,
        # Public pages kept for visitors (assembly.page_cache): at most this long, and this much per
        # worker process. 0 turns the keeping off.
        "PAGE_CACHE_SECONDS": 300,
        "PAGE_CACHE_BYTES": 32 * 1024 * 1024,
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        "ARGON2_PARALLELISM": 2,
        "MAIL_FROM": "Assembly <no-reply@assembly.invalid>",
        "SMTP_HOST": None,
        "SMTP_PORT": 587,
        "SMTP_USER": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": True,
        # SMS (docs/sms.md): "console" prints them (development); "46elks" posts them to its API.
        "SMS_BACKEND": "console",
        "SMS_API_URL": "https://api.46elks.com/a1/sms",
        "SMS_API_USERNAME": None,
        "SMS_API_PASSWORD": None,
        "SMS_FROM": "Assembly",
        # No SMS but codes between these hours (wall clock of the recipient's neighbourhood).
        "SMS_QUIET_START": 21,
        "SMS_QUIET_END": 8,
        # Phone numbers typed without +country are read in this region (ISO 3166 code).
        "PHONE_DEFAULT_REGION": "TR",
        "SMS_CODE_MINUTES": 15,
        "SMS_CODES_PER_HOUR": 3,
        "SMS_CODE_MAX_ATTEMPTS": 5,
        # Forms that send a code by SMS, per client address and per phone number typed.
        "RATELIMIT_SMS": "10 per hour;30 per day",
        "RATELIMIT_SMS_PHONE": "3 per hour;10 per day",
        "SERVER_NAME": None,
        "PREFERRED_URL_SCHEME": "http",
        "BASE_URL": None,  # required in production; DEVELOPMENT_BASE_URL elsewhere
    }


_ENV_STRINGS = (
    "ASSEMBLY_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BALLOT_SEAL_KEY", "DEFAULT_TIMEZONE",
    "MAIL_FROM", "SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "BASE_URL",
    "RATELIMIT_STORAGE_URI", "RATELIMIT_LOGIN", "RATELIMIT_LOGIN_ACCOUNT", "RATELIMIT_REGISTER",
    "RATELIMIT_REGISTER_EMAIL", "RATELIMIT_RESET", "RATELIMIT_RESET_EMAIL", "RATELIMIT_JOIN",
    "RATELIMIT_JOIN_ADDRESS", "RATELIMIT_MUHTAR",
    "MAP_TILE_URL", "MAP_ATTRIBUTION", "RATELIMIT_WRITE", "RATELIMIT_VOTE",
    "RATELIMIT_API", "RATELIMIT_PDF", "SMS_BACKEND", "SMS_API_URL", "SMS_API_USERNAME", "SMS_API_PASSWORD",
    "SMS_FROM", "PHONE_DEFAULT_REGION", "RATELIMIT_SMS", "RATELIMIT_SMS_PHONE", "CONSULTATION_FILES_DIR",
    "RATELIMIT_API", "RATELIMIT_PDF", "PHOTO_STORAGE", "PHOTO_DIRECTORY", "PHOTO_S3_BUCKET", "PHOTO_S3_ENDPOINT_URL",
    "PHOTO_S3_REGION", "PHOTO_S3_ACCESS_KEY_ID", "PHOTO_S3_SECRET_ACCESS_KEY", "PHOTO_S3_PREFIX",
)
_ENV_INTS = (
    "SMTP_PORT", "LOGIN_SESSION_DAYS", "PASSWORD_RESET_HOURS", "INVITE_CODE_DAYS",
    "MAX_CONTENT_LENGTH", "BALLOTS_FILE_MAX_BYTES", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM",
    "COMMENT_EDIT_MINUTES", "AUTO_HIDE_MIN_REPORTS", "TRUSTED_PROXIES", "WEB_CONCURRENCY", "HSTS_MAX_AGE",
    "SMS_QUIET_START", "SMS_QUIET_END", "SMS_CODE_MINUTES", "SMS_CODES_PER_HOUR", "SMS_CODE_MAX_ATTEMPTS",
    "SURVEY_MIN_GROUP",
    "PHOTO_MAX_COUNT", "PHOTO_MAX_BYTES", "PHOTO_MAX_PIXELS", "PHOTO_CACHE_SECONDS",
    "PAGE_CACHE_SECONDS", "PAGE_CACHE_BYTES",
)
_ENV_DECIMALS = ("AUTO_HIDE_REPORT_PERCENT",)
_ENV_BOOLS = ("LOAD_DEMO_DATA", "RATELIMIT_ENABLED", "SMTP_STARTTLS", "SQL_ECHO")


def from_environment() -> dict:
    """Settings given as environment variables, optionally prefixed with ASSEMBLY_."""
    found: dict = {}
    for name in _ENV_STRINGS + _ENV_INTS + _ENV_DECIMALS + _ENV_BOOLS:
        for env_name in (f"ASSEMBLY_{name}", name):
            if env_name in os.environ:
                if name in _ENV_INTS:
                    found[name] = _env_int(env_name, 0)
                elif name in _ENV_DECIMALS:
                    found[name] = _env_decimal(env_name, 0)
                elif name in _ENV_BOOLS:
                    found[name] = _env_bool(env_name, False)
                else:
                    found[name] = os.environ[env_name]
                break
    return found


def secret_key_from_instance(instance_path: Path, name: str = "secret_key") -> str:
    """Read a secret kept in instance/, creating it on first start."""
    key_file = instance_path / name
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


# Settings that no longer exist, with what took their place: refused rather than silently ignored.
_REPLACED = {"AUTO_HIDE_REPORTS": "AUTO_HIDE_MIN_REPORTS and AUTO_HIDE_REPORT_PERCENT"}


def _check_moderation(config: dict) -> None:
    for old, new in _REPLACED.items():
        if old in config or old in os.environ or f"ASSEMBLY_{old}" in os.environ:
            raise ConfigError(f"{old} was replaced by {new} (see docs/configuration.md)")
    if config["SURVEY_MIN_GROUP"] < 1:
        raise ConfigError("SURVEY_MIN_GROUP must be at least 1")
    if config["AUTO_HIDE_MIN_REPORTS"] < 1:
        raise ConfigError("AUTO_HIDE_MIN_REPORTS must be at least 1")
    if not 0 <= config["AUTO_HIDE_REPORT_PERCENT"] <= 100:
        raise ConfigError("AUTO_HIDE_REPORT_PERCENT must be between 0 and 100")


def _check_sms(config: dict) -> None:
    if config["SMS_BACKEND"] not in {"console", "46elks"}:
        raise ConfigError("SMS_BACKEND must be console or 46elks")
    if config["SMS_BACKEND"] == "46elks" and not (config.get("SMS_API_USERNAME") and config.get("SMS_API_PASSWORD")):
        raise ConfigError("SMS_BACKEND=46elks needs SMS_API_USERNAME and SMS_API_PASSWORD")
    for name in ("SMS_QUIET_START", "SMS_QUIET_END"):
        if not 0 <= config[name] <= 23:
            raise ConfigError(f"{name} must be an hour from 0 to 23")
    for name in ("SMS_CODE_MINUTES", "SMS_CODES_PER_HOUR", "SMS_CODE_MAX_ATTEMPTS"):
        if config[name] < 1:
            raise ConfigError(f"{name} must be 1 or more")


def _check_photos(config: dict) -> None:
    for name in ("PHOTO_MAX_BYTES", "PHOTO_MAX_PIXELS"):
        if config[name] < 1:
            raise ConfigError(f"{name} must be 1 or more")
    for name in ("PHOTO_MAX_COUNT", "PHOTO_CACHE_SECONDS"):
        if config[name] < 0:
            raise ConfigError(f"{name} must be 0 or more")
    if config["PHOTO_STORAGE"] not in ("local", "s3"):
        raise ConfigError("PHOTO_STORAGE must be local or s3")
    if config["PHOTO_STORAGE"] == "s3" and not config.get("PHOTO_S3_BUCKET"):
        raise ConfigError("PHOTO_STORAGE=s3 needs PHOTO_S3_BUCKET (and PHOTO_S3_ENDPOINT_URL for a store "
                          "other than AWS)")


# The limiter's own store for one process (assembly.rate_limits.ProcessMemoryStorage): what
# `memory://` means here. The library's memory store starts a timer thread on nearly every request.
PROCESS_MEMORY_STORAGE = "assembly-memory://"


def _check_deployment(config: dict, env: str) -> None:
    """Proxies, processes and the limiter's store: refuse what would count wrong."""
    for name in ("TRUSTED_PROXIES", "HSTS_MAX_AGE"):
        if config[name] < 0:
            raise ConfigError(f"{name} must be 0 or more")
    if config["WEB_CONCURRENCY"] < 1:
        raise ConfigError("WEB_CONCURRENCY must be 1 or more (the number of gunicorn workers)")
    storage = config["RATELIMIT_STORAGE_URI"]
    if config.get("REDIS_URL") and storage == "memory://":
        storage = config["REDIS_URL"]
    if storage == "memory://":
        storage = PROCESS_MEMORY_STORAGE
    config["RATELIMIT_STORAGE_URI"] = storage
    if env == "production" and storage.startswith(("memory:", PROCESS_MEMORY_STORAGE)) \
            and config["RATELIMIT_ENABLED"] and config["WEB_CONCURRENCY"] > 1:
        raise ConfigError("With more than one process (WEB_CONCURRENCY > 1) the rate limits need a store that "
                          "every process shares: set REDIS_URL (or RATELIMIT_STORAGE_URI=redis://…); with "
                          "memory:// each process would count on its own and multiply every limit")


DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def _base_url(value: str | None, env: str) -> str:
    """The public address every absolute link is built on (never the request's Host header)."""
    value = (value or "").strip()
    if not value:
        if env == "production":
            raise ConfigError("In production BASE_URL must be set to the site's public address, e.g. "
                              "https://assembly.example.org: links in e-mails, feeds, calendars and the APIs "
                              "are built on it, never on the Host header of a request")
        return DEVELOPMENT_BASE_URL
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"BASE_URL must be an http:// or https:// address without query or fragment, "
                          f"got {value!r}")
    return value.rstrip("/")


def finalise(config: dict) -> None:
    """Derive dependent settings and refuse combinations that cannot work."""
    url = config["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    config["DATABASE_URL"] = url
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg")):
        raise ConfigError("DATABASE_URL must be a SQLite or PostgreSQL URL")
    env = config["ASSEMBLY_ENV"]
    if env not in {"development", "production", "testing"}:
        raise ConfigError("ASSEMBLY_ENV must be development, production or testing")
    _check_deployment(config, env)
    if env == "production":
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        config["PREFERRED_URL_SCHEME"] = "https"
        if not config.get("SECRET_KEY") or len(config["SECRET_KEY"]) < 32:
            raise ConfigError("In production SECRET_KEY must be set and at least 32 characters long")
        # Every app server must open the same envelopes, and a key lost during a vote loses the vote
        # (outside production `create_app` keeps a generated one in instance/).
        if not config.get("BALLOT_SEAL_KEY") or len(config["BALLOT_SEAL_KEY"]) < 32:
            raise ConfigError("In production BALLOT_SEAL_KEY must be set (at least 32 characters): it seals "
                              "secret votes until the ballot closes; give every app server the same one")
    if config.get("BALLOT_SEAL_KEY") and config["BALLOT_SEAL_KEY"] == config.get("SECRET_KEY"):
        raise ConfigError("BALLOT_SEAL_KEY must differ from SECRET_KEY")
    _check_moderation(config)
    _check_sms(config)
    _check_photos(config)
    config["BASE_URL"] = _base_url(config.get("BASE_URL"), env)
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=config["LOGIN_SESSION_DAYS"])
    config["RATELIMIT_HEADERS_ENABLED"] = True
    config["TESTING"] = config.get("TESTING", False) or env == "testing"
