"""Extensions created without an app; `create_app` binds them."""
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from assembly.db import db
from assembly.i18n import AssemblyBabel
from assembly.rate_limits import client_key, counted_by_hot_limit

babel = AssemblyBabel()  # Flask-Babel, keeping the request's catalogue (assembly.i18n)
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)
limiter.request_filter(counted_by_hot_limit)

__all__ = ["babel", "csrf", "db", "limiter", "login_manager"]
