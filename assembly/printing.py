"""Documents on paper: PDFs rendered from HTML templates (WeasyPrint) and QR codes (segno).

Every printable document is an ordinary template that extends `print/base.html`; the same HTML is
served as a page with a print stylesheet and, through `render_pdf`, as a PDF. WeasyPrint lays out
right-to-left text with Pango and HarfBuzz, so Persian comes out shaped and ordered as in the browser.

A document links its stylesheet and images as `url_for("static", …)` does (`/static/…`); while
rendering, such addresses are read from the package's static folder. Only those files and
`data:` URLs are ever fetched: a document that contains a resident's text can name any address
in an `<img>`, and the server must not fetch it (no requests to the internal network on a
visitor's behalf).
"""
from __future__ import annotations

import io
import mimetypes
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import segno
from markupsafe import Markup

STATIC_ROOT = (Path(__file__).parent / "static").resolve()
PDF_MIMETYPE = "application/pdf"


class RefusedFetch(ValueError):
    """A document asked for a resource outside the package's static files."""


def _fetcher():
    """WeasyPrint's URL fetcher limited to the package's static files and `data:` URLs."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # imported with WeasyPrint, see render_pdf

    class StaticOnly(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.path.startswith("/static/"):
                path = (STATIC_ROOT / unquote(parts.path).removeprefix("/static/")).resolve()
                if path.is_relative_to(STATIC_ROOT) and path.is_file():
                    mime, _ = mimetypes.guess_type(path.name)
                    return URLFetcherResponse(url, path.read_bytes(),
                                              {"Content-Type": mime or "application/octet-stream"})
            raise RefusedFetch(url)

    return StaticOnly(allowed_protocols=("file", "data"), allow_redirects=False)


def render_pdf(html: str) -> bytes:
    """The PDF of one printable page's HTML."""
    from weasyprint import HTML  # loads Pango through cffi: only the processes that print pay for it
    document = HTML(string=html, base_url="file:///", url_fetcher=_fetcher())
    return document.write_pdf()


def pdf_headers(filename: str) -> dict[str, str]:
    """Headers of a PDF download named `filename` (any script, RFC 6266 `filename*`)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "document.pdf"
    return {
        "Content-Type": PDF_MIMETYPE,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


def qr_svg(url: str, *, label: str) -> Markup:
    """An inline SVG QR code for `url`, readable by phone cameras at 2 cm on paper.

    `label` is the accessible name (what the code leads to, in the reader's language).
    """
    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, nl=False,
              title=label, svgclass="qr", lineclass=None)
    return Markup(buffer.getvalue().decode("utf-8"))
