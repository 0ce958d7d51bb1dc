"""Deciding whether a fenced block is the whole file or a part of it.

Mistaking a part for the whole file deletes code, while the reverse only
merges a whole file part by part (nothing is lost, nothing dropped), so the
rule errs toward "part". For code (Python, JS/TS, CSS) a block is the whole
file when:

1. the file is blank, or its language has no symbols we can match (JSON,
   unknown extensions); or
2. the block repeats *every* top-level definition of the file, and either at
   least half of its other top-level statements or statements of its own (at
   least half as many): a complete file whose main code was rewritten; or
3. the block is a complete program — definitions *and* statements, at least
   half as many statements as the file — and it has most (more than half) of
   the file's definitions, or the file is small (at most one definition,
   at most 30 lines): the prompt asks for whole files, and a small file's
   complete answer must not lose its ``print(factorial(5))``; or
4. the file has no definitions (a script) and the block keeps at least half of
   its statements, or the file is small and the block has as many statements.

Rules 2 to 4 also require the block to be *closed*: it may not use a name that
only the file defines or imports (``greet``, ``math``) — such a block leans on
the rest of the file, so it cannot be all of it.

HTML: the block has ``<html``/``<!doctype``, or starts with the same first
non-blank line as the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.edits.lines import detect_eol, to_eol, trim_blank_edges
from playground.edits.symbols import Item, top_level_items

_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\r?\n)*")
_TRAILING_NEWLINES = re.compile(r"(?:\r?\n[ \t]*)*\Z")


def whole_file_text(old: str | None, lines: Sequence[str]) -> str:
    """The new text of a file from a whole-file block's lines.

    Models pad blocks with blank lines (the prompt itself shows one before each
    closing fence), so the block's blank edge lines are dropped and the file
    keeps its own: its leading blank lines, its line ending, and exactly the
    newline(s) it ended with (none if it had none). A new or blank file ends
    with one newline.
    """
    body = "\n".join(trim_blank_edges(lines))
    if old is None or not old.strip():
        return body + "\n" if body else ""
    head = _LEADING_BLANK_LINES.match(old)
    tail = _TRAILING_NEWLINES.search(old)
    return (
        (head.group(0) if head else "")
        + to_eol(body, detect_eol(old))
        + (tail.group(0) if tail else "")
    )


_SMALL_LINES = 30


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


# A name as code uses it: not an attribute (``obj.name``), not part of a longer name.
_NAME = re.compile(r"(?<![\w.$])[A-Za-z_$][\w$]*")


def _closed(file_items: list[Item], block_items: list[Item], block: str) -> bool:
    """The block uses no name that only the file binds (one pass over the block)."""
    bound = {n for i in block_items for n in i.names}
    used = set(_NAME.findall(block))
    return not any(n not in bound and n in used for i in file_items for n in i.names)


def is_whole_file(lang: str | None, old: str, block: str) -> bool:
    if not old.strip() or lang is None or lang == "json":
        return True
    if lang == "html":
        head = block.lower()
        return "<html" in head or "<!doctype" in head or _first_line(old) == _first_line(block)
    file_items = top_level_items(lang, old) or []
    block_items = top_level_items(lang, block) or []
    definitions = [i for i in file_items if i.is_symbol]
    statements = [i for i in file_items if i.kind == "statement"]
    if not definitions and not statements:
        return True  # only imports and comments
    if not _closed(file_items, block_items, block):
        return False
    block_keys = {i.key for i in block_items}
    own_definitions = sum(1 for i in block_items if i.is_symbol)
    own_statements = sum(1 for i in block_items if i.kind == "statement")
    kept_statements = sum(1 for i in statements if i.key in block_keys)
    enough_statements = own_statements * 2 >= len(statements)
    small = len(definitions) <= 1 and len(old.strip().splitlines()) <= _SMALL_LINES
    if not definitions:
        return kept_statements * 2 >= len(statements) or (
            small and own_statements >= len(statements)
        )
    kept = sum(1 for i in definitions if i.key in block_keys)
    if kept == len(definitions):
        return kept_statements * 2 >= len(statements) or (own_statements > 0 and enough_statements)
    program = own_definitions > 0 and own_statements > 0 and enough_statements
    return program and (kept * 2 > len(definitions) or small)
