"""Tree-sitter checks: an edit may not add ERROR or MISSING nodes to a file.

One tree is kept per file. An edit is checked by copying that tree, telling the
copy about the edit (``Tree.edit``) and re-parsing incrementally, so a hunk in a
500 KB file costs about as much as the region it touches. The copy becomes the
file's tree only if the edit is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from playground.edits.languages import language_for_path, parser
from playground.edits.model import Span
from playground.edits.offsets import utf16_len

Point = tuple[int, int]


@dataclass(frozen=True)
class Parsed:
    """A file's text with its tree and the number of error nodes in it."""

    text: str
    lang: str
    tree: tree_sitter.Tree
    errors: int


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int  # 1-based, in UTF-16 code units (CodeMirror's unit)
    line_text: str
    snippet: str
    message: str


@dataclass(frozen=True)
class Verdict:
    parsed: Parsed | None  # None: language not checked
    problem: SyntaxProblem | None


def error_nodes(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """ERROR and MISSING nodes in document order.

    Only subtrees flagged ``has_error`` are visited, so a clean tree costs O(1).
    """
    found: list[tree_sitter.Node] = []
    stack = [root] if root.has_error else []
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        stack.extend(reversed([c for c in node.children if c.has_error]))
    return found


def _locate(text: str, index: int) -> tuple[int, Point]:
    """Byte offset and tree-sitter point (row, byte column) of a str index."""
    row = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    if text.isascii():
        return index, (row, index - line_start)
    column = len(text[line_start:index].encode("utf-8"))
    return len(text[:index].encode("utf-8")), (row, column)


def _locate_after(old: str, span: Span, start_byte: int, start: Point) -> tuple[int, Point]:
    """Like ``_locate(old, span.end)`` but counting only within the span (big files)."""
    removed = old[span.start : span.end]
    size = len(removed) if old.isascii() else len(removed.encode("utf-8"))
    return start_byte + size, _advance(start, removed)


def _advance(point: Point, inserted: str) -> Point:
    rows = inserted.count("\n")
    if not rows:
        return point[0], point[1] + len(inserted.encode("utf-8"))
    tail = inserted[inserted.rfind("\n") + 1 :]
    return point[0] + rows, len(tail.encode("utf-8"))


def _edit_tree(tree: tree_sitter.Tree, old: str, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Describe ``spans`` to ``tree``; return the edited byte ranges in new coordinates."""
    edits = []
    for span in spans:
        start_byte, start_point = _locate(old, span.start)
        old_end_byte, old_end_point = _locate_after(old, span, start_byte, start_point)
        new_end_byte = start_byte + len(span.insert.encode("utf-8"))
        edits.append((start_byte, old_end_byte, new_end_byte, start_point, old_end_point, span))
    # Last span first, so each span's old coordinates are still valid when it is applied.
    for start_byte, old_end_byte, new_end_byte, start_point, old_end_point, span in reversed(edits):
        tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=_advance(start_point, span.insert),
        )
    ranges: list[tuple[int, int]] = []
    growth = 0  # how far earlier spans moved this one
    for start_byte, old_end_byte, new_end_byte, *_ in edits:
        ranges.append((start_byte + growth, new_end_byte + growth))
        growth += (new_end_byte - start_byte) - (old_end_byte - start_byte)
    return ranges


def parse_full(lang: str, text: str) -> Parsed:
    tree = parser(lang).parse(text.encode("utf-8"))
    return Parsed(text, lang, tree, len(error_nodes(tree.root_node)))


class SyntaxChecker:
    """Keeps one tree per path and judges edits against it."""

    def __init__(self) -> None:
        self._parsed: dict[str, Parsed] = {}

    def _current(self, path: str, lang: str, text: str) -> Parsed:
        known = self._parsed.get(path)
        if known is not None and known.lang == lang and known.text == text:
            return known
        known = parse_full(lang, text)
        self._parsed[path] = known
        return known

    def check(self, path: str, old: str | None, new: str, spans: Sequence[Span]) -> Verdict:
        """Judge replacing ``old`` (``None``: new file) by ``new`` at ``path``.

        ``spans`` must turn ``old`` into ``new``; with them the re-parse is incremental.
        """
        lang = language_for_path(path)
        if lang is None:
            return Verdict(None, None)
        if old is None:
            after = parse_full(lang, new)
            return Verdict(after, _describe(after, [], []) if after.errors else None)
        before = self._current(path, lang, old)
        tree = before.tree.copy()
        edited = _edit_tree(tree, old, spans)
        new_tree = parser(lang).parse(new.encode("utf-8"), tree)
        after = Parsed(new, lang, new_tree, len(error_nodes(new_tree.root_node)))
        if after.errors <= before.errors:
            return Verdict(after, None)
        changed = [(r.start_byte, r.end_byte) for r in tree.changed_ranges(new_tree)]
        return Verdict(after, _describe(after, edited, changed))

    def store(self, path: str, parsed: Parsed | None) -> None:
        if parsed is not None:
            self._parsed[path] = parsed

    def forget(self, path: str) -> None:
        self._parsed.pop(path, None)


def _describe(
    after: Parsed, edited: list[tuple[int, int]], changed: list[tuple[int, int]]
) -> SyntaxProblem:
    """Point at the first error that the edit introduced (near what it changed)."""
    nodes = error_nodes(after.tree.root_node)
    regions = edited + changed

    def near(node: tree_sitter.Node) -> bool:
        return any(node.start_byte <= end and node.end_byte >= start for start, end in regions)

    node = next((n for n in nodes if near(n)), nodes[0])
    data = after.text.encode("utf-8")
    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    line_end = data.find(b"\n", node.start_byte)
    line_text = data[line_start : len(data) if line_end < 0 else line_end].decode(
        "utf-8", "replace"
    )
    line_text = line_text.removesuffix("\r")
    prefix = data[line_start : node.start_byte].decode("utf-8", "replace")
    if node.is_missing:
        message = f"missing {node.type!r}"
    else:
        bad = (node.text or b"").decode("utf-8", "replace").split("\n", 1)[0]
        message = f"unexpected {bad[:40]!r}" if bad.strip() else "unexpected end of input"
    snippet = f"{line_text}\n{' ' * len(prefix.expandtabs(1))}^"
    return SyntaxProblem(
        line=node.start_point.row + 1,
        column=utf16_len(prefix) + 1,
        line_text=line_text,
        snippet=snippet,
        message=message,
    )
