"""Top-level items of a source file, found with tree-sitter.

An item is a definition (function, class, ``const x``, CSS rule, HTML element
with an id) keyed by kind and name, or another top-level statement (imports,
calls) keyed by its text. Whole-symbol edits match block items to file items
by key; the whole-file heuristic compares the two sets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter

from playground.edits.languages import parser

SYMBOL_KINDS = frozenset(
    {"function", "class", "variable", "interface", "type", "enum", "rule", "at-rule", "element"}
)
# HTML elements that appear once per page, so their tag identifies them.
UNIQUE_TAGS = frozenset({"html", "head", "body", "main", "header", "footer", "nav", "title"})

_PY = {"function_definition": "function", "class_definition": "class"}
_PY_IMPORTS = {"import_statement", "import_from_statement", "future_import_statement"}
_JS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "lexical_declaration": "variable",
    "variable_declaration": "variable",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
}


@dataclass(frozen=True)
class Item:
    kind: str
    name: str
    start: int  # str indices into the parsed text
    end: int
    node: str = ""  # the tree-sitter node type (statements are matched by it)
    names: tuple[str, ...] = ()  # names the item binds: def name, imports, assignment targets

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.name

    @property
    def is_symbol(self) -> bool:
        return self.kind in SYMBOL_KINDS


class _Text:
    """Node text and byte->str index conversion for one source text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.ascii = text.isascii()

    def index(self, byte: int) -> int:
        return byte if self.ascii else len(self.data[:byte].decode("utf-8", "replace"))

    def of(self, node: tree_sitter.Node | None) -> str:
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def item(
        self, kind: str, name: str, node: tree_sitter.Node, names: tuple[str, ...] = ()
    ) -> Item:
        end = self.index(node.end_byte)
        # Some grammars end a trailing comment after its "\r"; keep CRLF pairs whole.
        if end and self.text[end - 1] == "\r":
            end -= 1
        return Item(kind, name, self.index(node.start_byte), end, node.type, names)


def _squash(text: str) -> str:
    return " ".join(text.split())


def top_level_items(lang: str, text: str) -> list[Item] | None:
    """Items of ``text`` in order; ``None`` if the language has no notion of symbols."""
    src = _Text(text)
    root = parser(lang).parse(src.data).root_node
    if lang == "python":
        return [i for n in root.named_children if (i := _python_item(src, n))]
    if lang in ("javascript", "typescript", "tsx"):
        return [i for n in root.named_children if (i := _js_item(src, n))]
    if lang == "css":
        return [i for n in root.named_children if (i := _css_item(src, n))]
    if lang == "html":
        return [i for n in root.named_children if (i := _html_item(src, n))]
    return None


def _statement(src: _Text, node: tree_sitter.Node) -> Item:
    return src.item("statement", _squash(src.of(node)), node)


def _python_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type == "comment":
        return None
    inner = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
    if inner is not None and inner.type in _PY:
        name = src.of(inner.child_by_field_name("name"))
        return src.item(_PY[inner.type], name, node, (name,))
    if node.type in _PY_IMPORTS:
        text = _squash(src.of(node))
        return src.item("import", text, node, _python_import_names(text))
    return src.item("statement", _squash(src.of(node)), node, _python_targets(src, node))


def _python_import_names(text: str) -> tuple[str, ...]:
    """``import a.b, c as d`` -> (a, d); ``from m import (x, y as z)`` -> (x, z)."""
    _, _, names = text.partition(" import ") if text.startswith("from ") else ("", "", text[7:])
    found = []
    for part in names.strip("() ").split(","):
        words = part.split()
        if words and words[-1] != "*":
            found.append(words[-1] if len(words) == 3 else words[0].split(".")[0])
    return tuple(found)


def _python_targets(src: _Text, node: tree_sitter.Node) -> tuple[str, ...]:
    """Names a top-level ``x = ...`` / ``x, y = ...`` statement assigns."""
    child = node.named_children[0] if node.type == "expression_statement" else None
    if child is None or child.type not in ("assignment", "augmented_assignment"):
        return ()
    left = child.child_by_field_name("left")
    if left is None:
        return ()
    if left.type == "identifier":
        return (src.of(left),)
    return tuple(src.of(c) for c in left.named_children if c.type == "identifier")


def _js_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type == "comment":
        return None
    inner = node.child_by_field_name("declaration") if node.type == "export_statement" else node
    if inner is None or inner.type not in _JS:
        if node.type == "import_statement":
            text = _squash(src.of(node))
            return src.item("import", text, node, _js_import_names(text))
        return _statement(src, node)
    names = tuple(
        src.of(c.child_by_field_name("name"))
        for c in inner.named_children
        if c.type == "variable_declarator"
    )
    name_node = inner.child_by_field_name("name")
    if name_node is not None:
        names = (src.of(name_node),)
    if not names:
        return _statement(src, node)
    return src.item(_JS[inner.type], names[0], node, names)  # const/let/var: first declarator


def _js_import_names(text: str) -> tuple[str, ...]:
    """``import a, {b as c} from "m"`` -> (a, c); ``import * as ns from "m"`` -> (ns,)."""
    clause = text[len("import ") :].rsplit(" from ", 1)[0] if " from " in text else ""
    found = []
    for part in clause.replace("{", ",").replace("}", ",").split(","):
        words = part.split()
        if words:
            found.append(words[-1])
    return tuple(found)


def _css_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type == "comment":
        return None
    if node.type in ("declaration", "ERROR"):
        return _statement(src, node)  # a bare "color: red;": it has no selector
    if node.type == "rule_set":
        return src.item(
            "rule",
            _squash(src.of(node.child_by_field_name("selectors") or node.named_children[0])),
            node,
        )
    prelude = src.of(node).split("{", 1)[0]
    return src.item("at-rule", _squash(prelude), node)


def _html_tag(src: _Text, element: tree_sitter.Node) -> tuple[str, dict[str, str]] | None:
    """Tag name and attributes of an element's start tag."""
    start = next(
        (c for c in element.named_children if c.type in ("start_tag", "self_closing_tag")), None
    )
    if start is None:
        return None
    tag = ""
    attrs: dict[str, str] = {}
    for child in start.named_children:
        if child.type == "tag_name":
            tag = src.of(child).lower()
        elif child.type == "attribute":
            parts = child.named_children
            if parts:
                value = src.of(parts[1]).strip("\"'") if len(parts) > 1 else ""
                attrs.setdefault(src.of(parts[0]).lower(), value)
    return tag, attrs


def _html_key(src: _Text, element: tree_sitter.Node) -> str | None:
    found = _html_tag(src, element)
    if found is None:
        return None
    tag, attrs = found
    if attrs.get("id"):
        return "#" + attrs["id"]
    return f"<{tag}>" if tag in UNIQUE_TAGS else None


def _html_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type not in ("element", "script_element", "style_element"):
        return None if node.type in ("comment", "text") else _statement(src, node)
    key = _html_key(src, node)
    if key is None:
        return _statement(src, node)
    return src.item("element", key, node)


def html_elements(text: str) -> list[Item]:
    """Every element of an HTML document that has an id or a unique tag, nested ones too."""
    src = _Text(text)
    found: list[Item] = []
    stack = [parser("html").parse(src.data).root_node]
    while stack:
        node = stack.pop()
        if node.type in ("element", "script_element", "style_element"):
            key = _html_key(src, node)
            if key is not None:
                found.append(src.item("element", key, node))
        stack.extend(reversed(node.named_children))
    return found


_ELEMENTS = ("element", "script_element", "style_element")


@dataclass(frozen=True)
class Tag:
    """An HTML element with its tag name and attributes."""

    tag: str
    attrs: dict[str, str] = field(hash=False)
    item: Item


def html_tags(text: str, top_level: bool = False) -> list[Tag]:
    """Every element of ``text`` in document order (only the outermost ones if asked)."""
    src = _Text(text)
    found: list[Tag] = []
    stack = list(reversed(parser("html").parse(src.data).root_node.named_children))
    while stack:
        node = stack.pop()
        if node.type in _ELEMENTS:
            tagged = _html_tag(src, node)
            if tagged is not None:
                key = _html_key(src, node) or f"<{tagged[0]}>"
                found.append(Tag(tagged[0], tagged[1], src.item("element", key, node)))
            if top_level:
                continue
        stack.extend(reversed(node.named_children))
    return found


# ``if __name__ == "__main__":`` (either order, either quote, optional parentheses).
_MAIN_GUARD = re.compile(
    r"""if\s*\(?\s*(?:__name__\s*==\s*(['"])__main__\1|(['"])__main__\2\s*==\s*__name__)"""
    r"""\s*\)?\s*:"""
)


@dataclass(frozen=True)
class Guard:
    """A Python file's ``if __name__ == "__main__":`` block."""

    item: Item  # the whole ``if`` statement
    body: list[Item]  # its statements, in the file's coordinates
    indent: str  # the indentation of its body


def is_main_guard(text: str) -> bool:
    return _MAIN_GUARD.match(text.lstrip()) is not None


def python_main_guard(text: str) -> Guard | None:
    """The file's top-level ``__main__`` block (without ``else``), if it has one."""
    src = _Text(text)
    for node in parser("python").parse(src.data).root_node.named_children:
        if node.type != "if_statement" or not is_main_guard(src.of(node)):
            continue
        body = node.child_by_field_name("consequence")
        if body is None or node.child_by_field_name("alternative") is not None:
            return None
        items = [i for c in body.named_children if (i := _python_item(src, c))]
        if not items:
            return None
        line_start = text.rfind("\n", 0, items[0].start) + 1
        indent = text[line_start : items[0].start]
        return Guard(src.item("statement", _squash(src.of(node)), node), items, indent)
    return None
