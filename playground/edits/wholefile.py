"""Deciding whether a fenced block is the whole file or just some definitions.

Mistaking a partial block for the whole file would delete code, while the
reverse only leaves stale code in place, so the rule errs toward "symbols".
A block is the whole file when:

1. the file is blank, or its language has no symbols we can match (JSON,
   unknown extensions), or the file has no top-level definitions; or
2. (code, CSS) the block repeats *every* top-level definition of the file and at
   least half of its other top-level statements (imports, calls) — so applying
   it as a whole file cannot drop a definition; or
3. (HTML) the block has ``<html``/``<!doctype``, or starts with the same first
   non-blank line as the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.edits.lines import detect_eol, to_eol, trim_blank_edges
from playground.edits.symbols import top_level_items

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


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def is_whole_file(lang: str | None, old: str, block: str) -> bool:
    if not old.strip() or lang is None or lang == "json":
        return True
    if lang == "html":
        head = block.lower()
        return "<html" in head or "<!doctype" in head or _first_line(old) == _first_line(block)
    file_items = top_level_items(lang, old) or []
    definitions = [i for i in file_items if i.is_symbol]
    if not definitions:
        return True
    block_keys = {i.key for i in top_level_items(lang, block) or []}
    if any(i.key not in block_keys for i in definitions):
        return False
    statements = [i for i in file_items if not i.is_symbol]
    kept = sum(1 for i in statements if i.key in block_keys)
    return kept * 2 >= len(statements)
