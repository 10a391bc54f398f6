"""Transcript text as HTML: Markdown (assistant turns, reasoning, summaries) and code
highlighted by Pygments, for the dashboard's pages and `export --format html`.

The HTML made here is safe to put in a page as it is, because nothing from a transcript
passes through unescaped:

- Markdown is rendered by markdown-it with raw HTML off (`<script>` stays text), and a
  link is a link only when it goes to http:, https: or mailto: (`javascript:`, `data:`,
  relative paths are shown as the text they were). Markdown images are not loaded (they
  would fetch from anywhere): they are shown as links.
- Code is coloured by Pygments with CSS classes (static/highlight.css), never inline
  styles: the Content-Security-Policy allows styles from /static only.
- Texts too long to render quickly are shown as escaped plain text instead.

After changing the styles: `python -m ui.markup > static/highlight.css`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

#: Characters of Markdown rendered as Markdown; a longer text is shown as plain text.
MARKDOWN_LIMIT = 200_000
#: Characters of one code block that are coloured; a longer one is shown plain.
HIGHLIGHT_LIMIT = 30_000
#: Where a link may go.
LINK_SCHEMES = ("http:", "https:", "mailto:")
LIGHT_STYLE, DARK_STYLE = "default", "github-dark"
#: What the CSS classes are scoped under (a highlighted block, a fenced block in Markdown).
CODE_SCOPES = [".hl", ".md pre"]
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+#.\-]{1,40}")


def _safe_link(url: str) -> bool:
    """http(s) and mailto only. markdown-it has decoded entities and %-escapes when it
    asks; control characters and spaces (`java\\tscript:`) are ignored as browsers do."""
    cleaned = _ASCII_CONTROL.sub("", url).strip().lower()
    return cleaned.startswith(LINK_SCHEMES)


def _fence(code: str, lang: str, _attrs: str) -> str:
    return str(highlight(code, lang) or "")


def _link_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    rendered: str = self.renderToken(tokens, idx, options, env)
    return rendered


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """A Markdown image as a link to it (its alt text as the words)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    if not _safe_link(src):
        return str(escape(f"[image: {alt}]"))
    href = escape(src)
    return f'<a href="{href}" rel="nofollow noopener noreferrer">[image: {escape(alt)}]</a>'


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "highlight": _fence},
    )
    md.enable(["table", "strikethrough"])
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


def markdown(text: str) -> Markup:
    """Markdown as HTML (see the module's docstring for what makes it safe)."""
    if len(text) > MARKDOWN_LIMIT:
        return Markup('<pre class="text">{}</pre>').format(text)
    try:
        return Markup(_markdown().render(text))
    except RecursionError:  # absurdly nested quotes or lists
        return Markup('<pre class="text">{}</pre>').format(text)


@functools.lru_cache(maxsize=256)
def _lexer(name: str) -> Lexer | None:
    try:
        lexer: Lexer = get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except (ClassNotFound, ValueError):
        return None
    return lexer


@functools.lru_cache(maxsize=512)
def lexer_name_for(filename: str) -> str | None:
    """The Pygments name of the language of a file, by its name (`orders.py`: python)."""
    try:
        lexer = get_lexer_for_filename(filename.rsplit("/", 1)[-1])
    except (ClassNotFound, ValueError):
        return None
    aliases = getattr(lexer, "aliases", None) or [None]
    name = aliases[0]
    return name if isinstance(name, str) else None


@functools.lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True)


def highlight(code: str, language: str | None) -> Markup | None:
    """The code's HTML, coloured with CSS classes (no <pre> around it); None when the
    language is unknown or the code too long (the caller shows it plain)."""
    if not language or len(code) > HIGHLIGHT_LIMIT or not _LANGUAGE.fullmatch(language):
        return None
    lexer = _lexer(language.lower())
    if lexer is None:
        return None
    return Markup(pygments_highlight(code, lexer, _formatter()))


def code_block(code: str, language: str | None) -> Markup:
    """A whole <pre> of code: coloured when the language is known, else escaped text."""
    coloured = highlight(code, language)
    if coloured is None:
        return Markup('<pre class="code">{}</pre>').format(code)
    return Markup('<pre class="code hl">') + coloured + Markup("</pre>")


def pygments_css() -> str:
    """static/highlight.css: the light style, and the dark one when the system is dark."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(CODE_SCOPES)
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(CODE_SCOPES)
    # Only the token colours (`.hl .k, .md pre .k {...}`): backgrounds come from app.css.
    light_rules = "\n".join(r for r in light.splitlines() if r.startswith(".hl ."))
    dark_rules = "\n".join("  " + r for r in dark.splitlines() if r.startswith(".hl ."))
    return (
        "/* Pygments token colours, generated by `python -m ui.markup`; do not edit. */\n"
        f"{light_rules}\n@media (prefers-color-scheme: dark) {{\n{dark_rules}\n}}\n"
    )


if __name__ == "__main__":
    print(pygments_css(), end="")
