"""Assembly: digital neighbourhood assemblies."""
from __future__ import annotations

import gc
import os
from pathlib import Path

from flask import Flask

from flask_babel import lazy_gettext as _l

from assembly import config as config_module
from assembly import deployment, i18n, page_cache, params, pipeline
from assembly.extensions import babel, csrf, db, limiter, login_manager
from assembly.photos import web as photo_uploads


def create_app(config: dict | None = None) -> Flask:
    """The composition root: configuration, extensions, the request pipeline, every blueprint
    and every command group. Nothing else in the package imports the blueprints."""
    app = Flask(
        __name__,
        instance_path=instance_path(),
        instance_relative_config=True,
        template_folder="templates",
    )
    settings = config_module.defaults(Path(app.instance_path))
    settings.update(config_module.from_environment())
    settings.update(config or {})
    if not settings.get("SECRET_KEY") and settings["ASSEMBLY_ENV"] != "production":
        settings["SECRET_KEY"] = config_module.secret_key_from_instance(Path(app.instance_path))
    if not settings.get("BALLOT_SEAL_KEY") and settings["ASSEMBLY_ENV"] != "production":
        settings["BALLOT_SEAL_KEY"] = config_module.secret_key_from_instance(Path(app.instance_path),
                                                                            "ballot_seal_key")
    config_module.finalise(settings)
    app.config.update(settings)

    _init_extensions(app)
    pipeline.install(app)
    deployment.init_app(app)
    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    _register_blueprints(app)
    _register_commands(app)
    if settings["ASSEMBLY_ENV"] == "production":
        # What start-up built (modules, templates, the ORM's mappings) lives as long as the process:
        # moved out of the garbage collector's reach, its full collections (every few hundred
        # requests) no longer walk all of it (issue 14). Not in tests, which make many apps.
        gc.collect()
        gc.freeze()
    return app


def instance_path() -> str | None:
    """Where the SQLite database and the generated development secrets live.

    `ASSEMBLY_INSTANCE_PATH` if set; otherwise Flask's choice: `instance/` beside the package in
    a source checkout (`make run`), `<virtual environment>/var/assembly-instance` when the package
    is installed (a wheel). See docs/configuration.md."""
    configured = os.environ.get("ASSEMBLY_INSTANCE_PATH", "").strip()
    return str(Path(configured).expanduser().resolve()) if configured else None


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    app.before_request(photo_uploads.upload_limit)  # before CSRF protection reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    i18n.init_app(app)
    page_cache.init_app(app)


def _register_blueprints(app: Flask) -> None:
    # Imported here, not at the top: importing any submodule runs this package's __init__ first,
    # and the views import the domains, which import the package's base modules.
    from assembly.accounts.views import bp as accounts_bp
    from assembly.admin.views import bp as admin_bp
    from assembly.api import errors as api_errors
    from assembly.api import open311
    from assembly.api import v1_promises  # noqa: F401 - adds the promises' routes to the API blueprint
    from assembly.api.v1 import bp as api_v1_bp
    from assembly.assemblies.views import bp as assemblies_bp
    from assembly.assemblies.views import help_bp
    from assembly.assisted.views import bp as assisted_bp
    from assembly.cases.exchange_views import bp as case_exchange_bp
    from assembly.cases.views import bp as cases_bp
    from assembly.consultations.views import bp as consultations_bp
    from assembly.documents.views import bp as documents_bp
    from assembly.extensions import csrf
    from assembly.meetings.views import bp as meetings_bp
    from assembly.neighbourhoods.views import bp as neighbourhoods_bp
    from assembly.notifications.views import bp as notifications_bp
    from assembly.notifications.views import unsubscribe_one_click
    from assembly.promises.views import bp as promises_bp
    from assembly.photos.views import bp as photos_bp
    from assembly.proposals.views import bp as proposals_bp
    from assembly.surveys.views import bp as surveys_bp

    for blueprint in (neighbourhoods_bp, accounts_bp, admin_bp, notifications_bp, proposals_bp, assemblies_bp,
                      assisted_bp, cases_bp, consultations_bp, documents_bp, api_v1_bp, open311.bp, case_exchange_bp,
                      meetings_bp, help_bp, promises_bp, surveys_bp, photos_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_v1_bp)  # token-authenticated, no session cookie
    csrf.exempt(open311.bp)
    csrf.exempt(unsubscribe_one_click)  # RFC 8058 one-click POST from mail programs; the link's token is the proof
    # An address under an API's prefix that matches no route is answered in that API's format.
    app.extensions["unrouted_errors"] = {"/open311/": open311.http_error, "/api/": api_errors.http_error}


def _register_commands(app: Flask) -> None:
    # Imported here for the same reason as the blueprints.
    from assembly import cli, integrity
    from assembly.assemblies import cli as assemblies_cli
    from assembly.cases import cli as cases_cli
    from assembly.demo import cli as demo_cli
    from assembly.neighbourhoods import cli as setup_cli
    from assembly.notifications import cli as mail_cli
    from assembly.photos import cli as photos_cli
    from assembly.promises import cli as promises_cli
    from assembly.sms import cli as sms_cli
    from assembly.surveys import cli as surveys_cli

    for group in (cli.schema, setup_cli.group, demo_cli.group, mail_cli.group, sms_cli.group, assemblies_cli.group,
                  cases_cli.group, promises_cli.group, integrity.checks, assemblies_cli.recount, surveys_cli.group,
                  photos_cli.group):
        app.cli.add_command(group)
