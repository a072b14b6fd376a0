"""WSGI entry point: `gunicorn wsgi:app`."""
from assembly import create_app

app = create_app()
