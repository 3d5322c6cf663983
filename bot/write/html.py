"""The answer as safe HTML (`answer_html`), for clients that cannot render Markdown themselves (the widget).

markdown-it-py renders, with raw HTML in the Markdown escaped rather than passed through; nh3 then keeps only the
tags and attributes an answer uses, links only to http, https and mailto, each opening apart with rel="noopener".
"""

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
        "blockquote", "code", "h3", "h4", "hr"}
ATTRIBUTES = {"a": {"href"}, "th": {"style"}, "td": {"style"}}  # style: a table column's alignment
URL_SCHEMES = {"http", "https", "mailto"}
# "[2]" in the text is a citation marker, not a Markdown link: it becomes a link to the cited source
_MARKER = re.compile(r"\[(\d+)\](?![(\[])")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def answer_html(markdown: str, citation_urls: dict[int, str] | None = None) -> str:
    """Sanitised HTML of an answer's Markdown; citation markers link to their source when its URL is given."""
    urls = citation_urls or {}

    def link(m: re.Match) -> str:
        url = urls.get(int(m.group(1)), "")
        if url.split(":", 1)[0] not in URL_SCHEMES:
            return m.group(0)
        return f"[\\[{m.group(1)}\\]](<{url}>)"

    rendered = _markdown().render(_MARKER.sub(link, markdown))
    return nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", set_tag_attribute_values={"a": {"target": "_blank"}})
