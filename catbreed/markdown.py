"""User text (breed, file, model and data set names, a zip's README) inside Markdown, as text only.

A breed folder named `![x](http://…)` or a README line `# 99.9% accurate` would otherwise render
as a remote image the viewer's browser fetches, a link or a heading wherever catbreed writes
Markdown: the app's pages and the MODEL_CARD.md that travels with every model and export.
Escaping every character that CommonMark gives a meaning (HTML's `<` and `>` included) keeps the
words and drops the markup.
"""

from __future__ import annotations

_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~$:=&")


def escape(text: object) -> str:
    """`text` with every Markdown or HTML special character backslash-escaped."""
    return "".join("\\" + c if c in _SPECIALS else c for c in str(text))


def escape_line(text: object) -> str:
    """`escape`, and line breaks folded to spaces: for a table cell or a list item."""
    return escape(" ".join(str(text).splitlines()))
