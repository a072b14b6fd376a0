"""Assembly: digital neighbourhood assemblies."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from assembly import config as config_module


def create_app(config: dict | None = None) -> Flask:
    """Load configuration, initialise extensions, register blueprints and commands."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=str(root / "instance"),
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

    # Imported when an app is built, like the blueprints below: importing any submodule runs this
    # package's __init__ first, and that must not load the web layer.
    from assembly import params, web

    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    web.init_app(app)
    _register_blueprints(app)
    from assembly.cli import register_commands  # the CLI loads every service and the demo: only for an app

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    # Imported here, not at the top: importing any submodule runs this package's __init__ first.
    from assembly.accounts.views import bp as accounts_bp
    from assembly.admin.views import bp as admin_bp
    from assembly.api import errors as api_errors
    from assembly.api import open311
    from assembly.api.v1 import bp as api_v1_bp
    from assembly.assemblies.views import bp as assemblies_bp
    from assembly.cases.exchange_views import bp as case_exchange_bp
    from assembly.cases.views import bp as cases_bp
    from assembly.extensions import csrf
    from assembly.neighbourhoods.views import bp as neighbourhoods_bp
    from assembly.notifications.views import bp as notifications_bp
    from assembly.proposals.views import bp as proposals_bp

    for blueprint in (neighbourhoods_bp, accounts_bp, admin_bp, notifications_bp, proposals_bp, assemblies_bp,
                      cases_bp, api_v1_bp, open311.bp, case_exchange_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_v1_bp)  # token-authenticated, no session cookie
    csrf.exempt(open311.bp)
    # An address under an API's prefix that matches no route is answered in that API's format.
    app.extensions["unrouted_errors"] = {"/open311/": open311.http_error, "/api/": api_errors.http_error}
