"""The upload size of pages that take photos, and the headers photos are served with."""
from __future__ import annotations

from flask import Response, current_app, request

# Endpoints whose POST may carry photos: they get a larger request limit than MAX_CONTENT_LENGTH
# (room for PHOTO_MAX_COUNT photos and one too many or too large, so that these are refused with
# a message on the form rather than a bare 413 page). Other domains add theirs with `accepts_photos`.
PHOTO_ENDPOINTS: set[str] = {"proposals.new", "proposals.edit"}


def accepts_photos(endpoint: str) -> None:
    PHOTO_ENDPOINTS.add(endpoint)


def upload_limit() -> None:
    """A before_request hook, installed before CSRF protection reads the form. Only a multipart
    body carries files: any other body (the API's JSON, say) keeps MAX_CONTENT_LENGTH."""
    if request.method == "POST" and request.endpoint in PHOTO_ENDPOINTS and request.mimetype == "multipart/form-data":
        config = current_app.config
        request.max_content_length = config["MAX_CONTENT_LENGTH"] + (config["PHOTO_MAX_COUNT"] + 1) * \
            config["PHOTO_MAX_BYTES"]


def photo_response(data: bytes, name: str, *, public: bool, etag: str) -> Response:
    """A stored JPEG, served so that no browser treats it as anything else: its exact type, no
    sniffing, shown inline under a name we made, and sandboxed should it be opened as a page.
    Public photos may be cached briefly (hiding one takes effect within PHOTO_CACHE_SECONDS);
    what only the muhtar sees (a hidden photo) is never stored by a cache."""
    response = Response(data, mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if public:
        response.headers["Cache-Control"] = f"public, max-age={current_app.config['PHOTO_CACHE_SECONDS']}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(etag)
    return response.make_conditional(request)
