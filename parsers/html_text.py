"""HTML mail bodies as readable text: blocks as lines, table rows as ``Label : Value``.

Partners' forms often arrive as HTML tables (Outlook, hospital software);
:func:`html_to_text` keeps their structure so the form reader sees one field a
line. Nothing here raises on a broken document.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any, TypeGuard

from lxml import etree

if TYPE_CHECKING:
    from bs4 import Tag

# Invisible characters that split words in copied text (zero-width spaces, soft hyphens…).
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# ---------------------------------------------------------------- HTML → text

_SKIP = frozenset({"script", "style", "head", "title", "meta", "link", "noscript", "xml", "template"})
_BLOCK = frozenset({
    "p", "div", "table", "tbody", "thead", "tfoot", "ul", "ol", "li", "h1", "h2", "h3", "h4",
    "h5", "h6", "blockquote", "pre", "section", "article", "header", "footer", "form",
    "fieldset", "dl", "dt", "dd", "address", "center", "hr", "caption", "body", "html",
})
_WINGDINGS = {"þ": "☒", "ý": "☒", "x": "☒", "ü": "✓", "¨": "☐", "o": "☐", "q": "☐", "¡": "☐"}
_LONE_MARK = re.compile(r"^(?:\[\s*[xX]?\s*\]|\(\s*[xX]?\s*\)|[☒☑☐□✓✔✗✘✅❌■❏xX])$")
_HTML_SPACES = re.compile(r"[ \t\r\n\f]+")
_WIDE_SPACES = re.compile(r"[ \u00a0]{2,}")
# Beautiful Soup is imported on its first use (rare documents only, see html_to_text): until
# then no node is a bs4 object and these tuples hold the light tree's types only.
_NOT_TEXT: tuple[type, ...] = ()


class _Text:
    """Accumulates text with soft (block) and hard (``<br>``) line breaks.

    Soft breaks between blocks collapse and drop whitespace-only lines (the
    indentation of the HTML source); a hard break or a block holding only a
    non-breaking space (Outlook's empty paragraph) gives a blank line.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []

    def add(self, text: str) -> None:
        """Append inline text."""
        self.current.append(text)

    def newline(self, hard: bool = False) -> None:
        """End the current line; a soft break drops a line made of plain spaces only."""
        line = "".join(self.current)
        self.current = []
        if hard or line.strip(" \t\r\n"):
            self.lines.append(line)

    def text(self) -> str:
        """The text, lines trimmed, runs of blank lines collapsed to one."""
        self.newline()
        out: list[str] = []
        for line in self.lines:
            line = _WIDE_SPACES.sub("  ", line).replace("\u00a0", " ").strip(" ")
            if not line.strip(" \t"):
                line = ""
            if line or (out and out[-1]):
                out.append(line)
        return "\n".join(out).strip("\n")


# ---------------------------------------------------------------- a light HTML tree

class _Element:
    """An HTML element: what :func:`_walk` uses of a :class:`bs4.Tag`."""

    __slots__ = ("attrs", "children", "name")

    def __init__(self, name: str, attrs: dict[str, str]) -> None:
        self.name, self.attrs = name, attrs
        self.children: list[_Element | str] = []


class _TreeBuilder:
    """An lxml parser target building the tree Beautiful Soup's lxml builder builds: same
    elements and nesting (an end tag closes the elements still open inside it), text
    pieces merged between tags and comments, whitespace-only text folded to one space or
    newline outside ``<pre>``/``<textarea>``. Comments, doctypes and processing
    instructions are left out (the walk skips them anyway)."""

    _PRESERVE = frozenset({"pre", "textarea"})

    def __init__(self) -> None:
        self.root = _Element("[document]", {})
        self.stack = [self.root]
        self.open: dict[str, int] = {}  # open elements by name
        self.pending: list[str] = []
        self.preserving = self.depth = 0

    def flush(self) -> None:
        """End the text being read."""
        if self.pending:
            text = "".join(self.pending)
            self.pending = []
            if not self.preserving and not text.strip(" \n\t\x0c\r"):
                text = "\n" if "\n" in text else " "
            self.stack[-1].children.append(text)

    @staticmethod
    def _local(name: str) -> str:  # "{namespace}name" → "name"
        return name[1:].split("}", 1)[1] if name[:1] == "{" and "}" in name else name

    def start(self, tag: str, attrib: dict[str, str], nsmap: object = None) -> None:
        self.flush()
        name = self._local(tag)
        element = _Element(name, {self._local(k): v for k, v in attrib.items()} if attrib else {})
        self.stack[-1].children.append(element)
        self.stack.append(element)
        self.depth = max(self.depth, len(self.stack))
        self.open[name] = self.open.get(name, 0) + 1
        self.preserving += name in self._PRESERVE

    def end(self, tag: str) -> None:
        self.flush()
        name = self._local(tag)
        while len(self.stack) > 1 and self.open.get(name):
            popped = self.stack.pop()
            self.open[popped.name] -= 1
            self.preserving -= popped.name in self._PRESERVE
            if popped.name == name:
                break

    def data(self, content: str) -> None:
        self.pending.append(content)

    def skip(self, *_: str) -> None:
        self.flush()

    comment = doctype = pi = skip
    close = flush


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_FAST_DEPTH = 100  # deeper documents take the Beautiful Soup path (RecursionError included)


_NODES: tuple[type, ...] = (_Element,)  # + bs4's Tag once imported


def _fast_tree(html: str) -> _Element | None:
    """The tree of ``html`` read by lxml directly; ``None`` for what Beautiful Soup must read
    (lxml fails, Beautiful Soup may raise, deep nesting) so that the text stays the same."""
    if not html.isascii() and _SURROGATE.search(html):
        return None
    try:
        builder = _TreeBuilder()
        parser = etree.HTMLParser(target=builder, recover=True, huge_tree=False, encoding=None)
        parser.feed(html[1:] if html[:1] == "\ufeff" else html)
        parser.close()
    except Exception:
        return None
    return builder.root if builder.depth <= _MAX_FAST_DEPTH else None


# ---------------------------------------------------------------- tree → text

def _is_wingdings(tag: Tag | _Element) -> bool:
    style = str(tag.attrs.get("style", "")) + " " + str(tag.attrs.get("face", ""))
    return "wingdings" in style.lower()


def _is_node(obj: object) -> TypeGuard[Tag | _Element]:
    return isinstance(obj, _NODES)


def _elements(node: Tag | _Element) -> list[Tag | _Element]:
    return [c for c in node.children if _is_node(c)]


def _has_table(node: Tag | _Element) -> bool:
    """True when a ``<table>`` is nested somewhere inside ``node``."""
    todo = _elements(node)
    while todo:
        element = todo.pop()
        if element.name == "table":
            return True
        todo += _elements(element)
    return False


def _cell_text(cell: Tag | _Element) -> str:
    out = _Text()
    _walk(cell, out, pre=False)
    return out.text()


def _row_text(row: Tag | _Element) -> str:
    texts = [_cell_text(c) for c in _elements(row) if c.name in ("td", "th")]
    if not any(texts):
        return ""
    if len(texts) == 2:
        label = " ".join(texts[0].split())
        value = texts[1]
        if not label:
            return value
        if _LONE_MARK.match(label):
            return f"{label} {value}"
        return f"{label.rstrip(' :')} : {value}"
    return "\t".join(" ".join(t.split()) for t in texts)


def _walk(node: Tag | _Element, out: _Text, pre: bool) -> None:
    """Append the text of ``node``'s children to ``out`` (deep nesting: RecursionError).

    ``node`` is a Beautiful Soup tag or an :class:`_Element` of the same document."""
    for child in node.children:
        if isinstance(child, _NOT_TEXT):
            continue
        if isinstance(child, str):  # NavigableString or the text of an _Element
            text = str(child)
            if not text.isascii():
                text = text.translate(ZERO_WIDTH)
            if _is_wingdings(node):
                text = "".join(_WINGDINGS.get(ch, ch) for ch in text)
            out.add(text if pre else _HTML_SPACES.sub(" ", text))
            continue
        if not _is_node(child):
            continue
        name = (child.name or "").lower().split(":")[-1]
        if name in _SKIP:
            continue
        if name == "br":
            out.newline(hard=True)
        elif name == "input" and str(child.attrs.get("type", "")).lower() in ("checkbox", "radio"):
            out.add(" [x] " if "checked" in child.attrs else " [ ] ")
        elif name == "tr" and not _has_table(child):
            out.newline()
            out.add(_row_text(child))
            out.newline()
        elif name in _BLOCK or name in ("td", "th", "tr"):
            out.newline()
            _walk(child, out, pre or name == "pre")
            out.newline()
        else:
            _walk(child, out, pre)


def _soup(html: str) -> Any:
    """``html`` read by Beautiful Soup (lxml, else Python's parser), imported here only: most
    processes never need it and it is long to import."""
    global _NODES, _NOT_TEXT
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction
    from bs4 import Tag as SoupTag

    _NODES, _NOT_TEXT = (SoupTag, _Element), (Comment, Declaration, Doctype, ProcessingInstruction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return BeautifulSoup(html, "lxml")
        except Exception:  # parser failure: fall back to the pure-Python one
            return BeautifulSoup(html, "html.parser")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: blocks and ``<br>`` as line breaks, table rows as
    ``Label : Value`` (two cells) or tab-separated cells, checkboxes as ``[x]``/``[ ]``.

    The document is read by lxml into a light tree; Beautiful Soup (lxml, else
    Python's parser) reads the rare documents lxml rejects or that nest very deep,
    with the same result."""
    tree = _fast_tree(html)
    if tree is not None:
        out = _Text()
        _walk(tree, out, pre=False)
        return out.text()
    soup = _soup(html)
    out = _Text()
    try:
        _walk(soup, out, pre=False)
    except RecursionError:
        return soup.get_text("\n")
    return out.text()


