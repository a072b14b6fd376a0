"""User text: Markdown rendered without raw HTML and sanitised, and search keys that fold
Turkish casing (İ/i/I/ı), Arabic to Persian letters and diacritics."""
from __future__ import annotations

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

# Bidirectional control characters can make text read differently from what was written
# ("Trojan Source"); user text is wrapped in dir="auto" elements instead.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
# Control characters other than tab and line breaks: XML (the Atom feed) cannot carry them and
# PostgreSQL refuses NUL in text.
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F], None)


def strip_bidi_controls(text: str) -> str:
    return text.translate(_BIDI_CONTROLS)


def clean_plain(text: str) -> str:
    """Normalise a line or block of user text before it is stored."""
    text = unicodedata.normalize("NFC", text or "").translate(_CONTROL_CHARACTERS)
    return strip_bidi_controls(text).replace("\r\n", "\n").strip()


def render_markdown(source: str) -> str:
    """Markdown to safe HTML: raw HTML is not interpreted, the result is sanitised with nh3."""
    html = _markdown.render(clean_plain(source))
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    )


_SEARCH_MAP = str.maketrans({
    "İ": "i", "I": "i", "ı": "i",
    "ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "آ": "ا", "ؤ": "و",
    "\u200c": " ", "\u200d": "", "\u0640": "",  # zero-width non-joiner, joiner, tatweel
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """A search key: the same for 'IŞIK', 'ışık', 'Işık' and 'ISIK', and for 'كوچه' and 'کوچه'."""
    text = (text or "").translate(_SEARCH_MAP).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", without_marks).strip()


def search_terms(query: str, limit: int = 8) -> list[str]:
    return [term for term in fold(query).split() if term][:limit]


# Characters that make a spreadsheet program read a cell as a formula (also their full-width forms).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: str) -> str:
    """Keep a CSV cell from being read as a formula by Excel, LibreOffice or Google Sheets."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
