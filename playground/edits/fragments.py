"""Top-level statements of a code block (not definitions): where they go.

A small model often answers with just the lines that change: a ``for`` loop, a
``print(...)``, an ``addEventListener(...)`` call. Each such statement of the
block is matched against the file's statements — top-level ones and, in
Python, those of the ``if __name__ == "__main__":`` block:

* the same statement (same text) is left alone;
* a statement it rewrites replaces it: same kind of node and either the same
  first line (``for i in range(5):`` → a new body), most of the same lines, an
  assignment to the same single name, or (one-line statements) nearly the same
  text. Two equally good candidates count as none. The best matches across the
  block are taken first, and the ``__main__`` block is rewritten either as a
  whole or statement by statement, never both.

Statements that match nothing are inserted next to the nearest matched
statement of the block (before the first one, after the others); when nothing
matched, at the end of the ``__main__`` block (Python) or at the end of the file.
Runs of new statements keep the block's own text between them (comments, blank
lines). Docstrings and ``"use strict"`` are never placed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from playground.edits.model import Span
from playground.edits.symbols import Item, python_main_guard

_EXACT = 3.0
_SAME_HEADER = 2.0
_SAME_TARGET = 1.5
_MOST_LINES = 0.5  # share of lines two multi-line statements must have in common
_NEARLY_SAME = 0.75  # text similarity two one-line statements must reach


@dataclass(frozen=True)
class _Slot:
    """A statement of the file that a block statement may rewrite."""

    item: Item
    indent: str  # "" at top level, the body's indentation inside the __main__ block


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _header(text: str) -> str:
    lines = _code_lines(text)
    return " ".join(lines[0].split()) if lines else ""


def _score(b: Item, b_text: str, slot: _Slot, old: str) -> float:
    c = slot.item
    if b.node != c.node:
        return 0.0
    if b.name == c.name:
        return _EXACT
    if b.names and b.names == c.names and len(b.names) == 1:
        return _SAME_TARGET
    c_text = old[c.start : c.end]
    b_lines, c_lines = _code_lines(b_text), _code_lines(c_text)
    if len(b_lines) > 1 or len(c_lines) > 1:
        if _header(b_text) == _header(c_text):
            return _SAME_HEADER
        shared = sum((Counter(b_lines) & Counter(c_lines)).values())
        overlap = shared / max(len(b_lines), len(c_lines))
        return overlap if overlap >= _MOST_LINES else 0.0
    matcher = SequenceMatcher(None, b.name, c.name, autojunk=False)
    if matcher.real_quick_ratio() < _NEARLY_SAME or matcher.quick_ratio() < _NEARLY_SAME:
        return 0.0  # cheap upper bounds first: a file may have thousands of statements
    ratio = matcher.ratio()
    return ratio if ratio >= _NEARLY_SAME else 0.0


def _is_docstring(item: Item) -> bool:
    return item.node == "expression_statement" and item.name[:1] in "\"'" and not item.names


def _with_leading_comments(block: str, start: int) -> int:
    """Move ``start`` up over comment lines directly above it."""
    while start > 0 and block[start - 1] == "\n":
        line_start = block.rfind("\n", 0, start - 1) + 1
        line = block[line_start : start - 1].strip()
        if not line.startswith(("#", "//")):
            break
        start = line_start
    return start


def _indented(text: str, indent: str) -> str:
    """Indent every line of ``text`` but the first (which goes after ``indent``)."""
    lines = text.split("\n")
    return "\n".join([lines[0], *(indent + line if line.strip() else line for line in lines[1:])])


def _gap(a: str, b: str, indent: str) -> str:
    """What separates two neighbouring statements: a blank line around compound ones."""
    multi = "\n" in a.strip() or "\n" in b.strip()
    return "\n\n" + indent if multi and not indent else "\n" + indent


class _Planner:
    def __init__(self, lang: str, old: str, file_items: list[Item]) -> None:
        self.lang = lang
        self.old = old
        self.file_items = file_items
        self.guard = python_main_guard(old) if lang == "python" else None
        self.slots = [_Slot(i, "") for i in file_items if i.kind == "statement"]
        self.inside: set[int] = set()  # the slots of the __main__ block's body
        self.guard_slot: int | None = None
        if self.guard is not None:
            start = self.guard.item.start
            self.guard_slot = next(
                (n for n, s in enumerate(self.slots) if s.item.start == start), None
            )
            first = len(self.slots)
            self.slots += [_Slot(i, self.guard.indent) for i in self.guard.body]
            self.inside = set(range(first, len(self.slots)))
        self.used: set[int] = set()

    def match(self, block: str, statements: list[Item]) -> list[_Slot | None]:
        """The slot each statement rewrites, best matches first across the block."""
        pairs = [
            (score, b, n)
            for b, item in enumerate(statements)
            for n, slot in enumerate(self.slots)
            if (score := _score(item, block[item.start : item.end], slot, self.old)) > 0
        ]
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        found: list[_Slot | None] = [None] * len(statements)
        decided: set[int] = set()
        for score, b, n in pairs:
            if b in decided or n in self.used:
                continue
            decided.add(b)
            rivals = (m for s, c, m in pairs if c == b and s == score and m != n)
            if any(m not in self.used for m in rivals):
                continue  # two equally good places: neither
            self.used.add(n)
            # The __main__ block is rewritten either whole or statement by statement.
            if n == self.guard_slot:
                self.used |= self.inside
            elif n in self.inside and self.guard_slot is not None:
                self.used.add(self.guard_slot)
            found[b] = self.slots[n]
        return found

    def default_insert(self, text: str) -> Span:
        """Where statements go when none of the block's statements matched."""
        guard = self.guard
        if guard is not None:
            at = guard.body[-1].end
            return Span(at, at, "\n" + guard.indent + _indented(text, guard.indent))
        if not self.file_items:
            lead = "" if not self.old or self.old.endswith("\n") else "\n"
            return Span(len(self.old), len(self.old), lead + text + "\n")
        last = self.file_items[-1]
        if last.is_symbol:
            gap = "\n\n\n" if self.lang == "python" else "\n\n"  # PEP 8 after a definition
        else:
            gap = _gap(self.old[last.start : last.end], text, "")
        return Span(last.end, last.end, gap + text)


def block_statements(items: list[Item]) -> list[Item]:
    """The items of a block that :func:`plan_statements` places."""
    return [i for i in items if i.kind == "statement" and not _is_docstring(i)]


def plan_statements(
    lang: str, old: str, file_items: list[Item], block: str, statements: list[Item]
) -> list[Span]:
    """Spans placing ``statements`` of ``block`` in ``old`` (see the module docstring)."""
    planner = _Planner(lang, old, file_items)
    spans: list[Span] = []
    run: list[Item] = []  # consecutive new statements not placed yet
    before_first: list[str] = []
    anchor: _Slot | None = None

    def run_text() -> str:
        return block[_with_leading_comments(block, run[0].start) : run[-1].end]

    def flush() -> None:
        if not run:
            return
        text = run_text()
        run.clear()
        if anchor is None:
            before_first.append(text)
            return
        indent = anchor.indent
        at = anchor.item.end
        gap = _gap(old[anchor.item.start : at], text, indent)
        spans.append(Span(at, at, gap + _indented(text, indent)))

    for b, slot in zip(statements, planner.match(block, statements), strict=True):
        b_text = block[b.start : b.end]
        if slot is None:
            run.append(b)
            continue
        if anchor is None:
            first_new = run_text() if run else None
            run.clear()
            texts = [*before_first, *([first_new] if first_new else [])]
            before_first.clear()
            if texts:
                text = "\n".join(texts)
                gap = _gap(text, b_text, slot.indent)
                spans.append(
                    Span(slot.item.start, slot.item.start, _indented(text, slot.indent) + gap)
                )
        else:
            flush()
        if b.name != slot.item.name:
            spans.append(Span(slot.item.start, slot.item.end, _indented(b_text, slot.indent)))
        anchor = slot
    flush()
    if before_first:
        spans.append(planner.default_insert("\n".join(before_first)))
    return spans
