"""Printable documents: a PDF in each language whose text reads back, and a renderer that never
fetches an address a document names (only the package's own static files)."""
from __future__ import annotations

import pytest

from assembly.printing import RefusedFetch, _fetcher, pdf_headers, qr_svg, render_pdf
from tests.support import pdf_text


@pytest.mark.parametrize(("lang", "direction", "text"), [
    ("en", "ltr", "Agenda of the assembly"),
    ("tr", "ltr", "Gündem: Kadıköy Moda Mahallesi"),
    ("sv", "ltr", "Järntorget: trygghetsundersökning"),
    ("fa", "rtl", "دستور جلسه محله"),
])
def test_a_document_in_each_script_reads_back(lang, direction, text):
    html = (f'<html lang="{lang}" dir="{direction}"><head><link rel="stylesheet" href="/static/css/print.css">'
            f"</head><body><h1>{text}</h1></body></html>")
    assert text in pdf_text(render_pdf(html))


@pytest.mark.parametrize("address", [
    "http://169.254.169.254/latest/meta-data/",
    "https://example.org/tracker.png",
    "file:///etc/passwd",
    "/static/../../setup.cfg",
    "ftp://example.org/x.png",
])
def test_no_address_outside_the_static_files_is_fetched(address):
    with pytest.raises((RefusedFetch, ValueError)):
        _fetcher().fetch(address if "://" in address else "file://" + address)
    # and a document naming it still renders, without it
    assert render_pdf(f'<html><body><p>Text</p><img src="{address}"></body></html>').startswith(b"%PDF-")


def test_the_stylesheet_is_read_from_the_package():
    response = _fetcher().fetch("file:///static/css/print.css")
    assert b"@page" in response.read()


def test_a_qr_code_is_inline_svg_with_an_escaped_name():
    svg = qr_svg("https://assembly.example/c/IST-2026-0001", label='case <"1">')
    assert svg.startswith("<svg") and '<title>case &lt;"1"&gt;</title>' in str(svg)
    assert "<script" not in svg


def test_a_download_name_in_any_script():
    headers = pdf_headers("دستور-جلسه.pdf")
    assert headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''%D8%AF" in headers["Content-Disposition"]
