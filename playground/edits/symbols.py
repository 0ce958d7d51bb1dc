"""Top-level items of a source file, found with tree-sitter.

An item is a definition (function, class, ``const x``, CSS rule, HTML element
with an id) keyed by kind and name, or another top-level statement (imports,
calls) keyed by its text. Whole-symbol edits match block items to file items
by key; the whole-file heuristic compares the two sets.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def item(self, kind: str, name: str, node: tree_sitter.Node) -> Item:
        end = self.index(node.end_byte)
        # Some grammars end a trailing comment after its "\r"; keep CRLF pairs whole.
        if end and self.text[end - 1] == "\r":
            end -= 1
        return Item(kind, name, self.index(node.start_byte), end)


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
        return src.item(_PY[inner.type], src.of(inner.child_by_field_name("name")), node)
    if node.type in _PY_IMPORTS:
        return src.item("import", _squash(src.of(node)), node)
    return _statement(src, node)


def _js_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type == "comment":
        return None
    inner = node.child_by_field_name("declaration") if node.type == "export_statement" else node
    if inner is None or inner.type not in _JS:
        kind = "import" if node.type == "import_statement" else "statement"
        return src.item(kind, _squash(src.of(node)), node)
    name_node = inner.child_by_field_name("name")
    if name_node is None:  # const/let/var: name of the first declarator
        declarator = next(
            (c for c in inner.named_children if c.type == "variable_declarator"), None
        )
        name_node = declarator.child_by_field_name("name") if declarator else None
    if name_node is None:
        return _statement(src, node)
    return src.item(_JS[inner.type], src.of(name_node), node)


def _css_item(src: _Text, node: tree_sitter.Node) -> Item | None:
    if node.type == "comment":
        return None
    if node.type == "rule_set":
        return src.item(
            "rule",
            _squash(src.of(node.child_by_field_name("selectors") or node.named_children[0])),
            node,
        )
    prelude = src.of(node).split("{", 1)[0]
    return src.item("at-rule", _squash(prelude), node)


def _html_key(src: _Text, element: tree_sitter.Node) -> str | None:
    start = next((c for c in element.named_children if c.type == "start_tag"), None)
    if start is None:
        return None
    tag = ""
    for child in start.named_children:
        if child.type == "tag_name":
            tag = src.of(child).lower()
        elif child.type == "attribute":
            parts = child.named_children
            if parts and src.of(parts[0]).lower() == "id" and len(parts) > 1:
                return "#" + src.of(parts[1]).strip("\"'")
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
