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
        template_folder=str(root / "templates"),
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

    from assembly import params, web

    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    web.init_app(app)
    return app
