"""Rich text in, safe HTML out: Markdown rendered and sanitized, or HTML (from e-mail, from an
editor) sanitized on input. Stored HTML is always the sanitized form, so templates can show it."""

from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
# No javascript:, data: or other schemes that run code or smuggle content.
URL_SCHEMES = {"http", "https", "mailto", "cid"}
MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "nl2br"]


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> str:
    """Markdown to sanitized HTML. Raw HTML inside the Markdown is sanitized too, not trusted."""
    return sanitize_html(markdown.markdown(text or "", extensions=MARKDOWN_EXTENSIONS))
