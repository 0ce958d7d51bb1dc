"""SEARCH/REPLACE blocks (aider style): collect one block, then apply it.

    path/to/file.py
    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE

An empty SEARCH creates the file if it is missing, and appends to it otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playground.edits.lines import LineTable, trim_blank_edges
from playground.edits.model import EditEvent
from playground.edits.patch_apply import missing_file
from playground.edits.paths import bad_path, resolve
from playground.edits.workspace import Workspace, with_code

SEARCH = re.compile(r"<{5,9} SEARCH\s*")
DIVIDER = re.compile(r"={5,9}\s*")
REPLACE = re.compile(r">{5,9} REPLACE\s*")


def is_search(line: str) -> bool:
    return SEARCH.fullmatch(line.strip()) is not None


@dataclass
class Block:
    path: str | None
    search: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    in_replace: bool = False

    def feed(self, line: str) -> bool:
        """Take one line of the block body; True once ``>>>>>>> REPLACE`` arrives."""
        stripped = line.strip()
        if not self.in_replace and DIVIDER.fullmatch(stripped):
            self.in_replace = True
        elif self.in_replace and REPLACE.fullmatch(stripped):
            return True
        else:
            (self.replace if self.in_replace else self.search).append(line)
        return False


def apply_block(ws: Workspace, block: Block, hunk: int) -> EditEvent:
    if block.path is None:
        reason = (
            "The SEARCH/REPLACE block does not say which file it changes (the file path "
            "should be on the line just before it), so it was not applied. Ask the model to "
            "name the file."
        )
        return ws.reject("", hunk, reason, code="\n".join(block.replace))
    path = resolve(block.path, ws.files)
    problem = bad_path(path)
    if problem:
        return ws.reject(path, hunk, problem, [path])
    search, replace = block.search, block.replace
    blank_search = not any(line.strip() for line in search)
    if path not in ws.files:
        if blank_search:
            return ws.add(path, hunk, "".join(line + "\n" for line in replace))  # has code
        code = "\n".join(replace)
        return ws.reject(path, hunk, missing_file(path), search, code=code)
    table = LineTable.of(ws.files[path])
    if blank_search:
        span = table.replace(table.count, 0, replace)
        return with_code(ws.update(path, hunk, [span]), "\n".join(replace))
    found = table.find(search)
    if found.index is None:
        # Retry without blank lines at the edges, which models add or drop freely.
        search, replace = trim_blank_edges(search), trim_blank_edges(replace)
        found = table.find(search)
    code = "\n".join(block.replace)
    if found.index is None:
        reason = (
            f"The SEARCH lines were not found in {path} (the model may have misquoted them, "
            "or the file has changed), so the change was not applied. Ask the model to redo "
            "it against the current file."
        )
        return ws.reject(path, hunk, reason, block.search, code=code)
    span = table.replace(found.index, len(search), replace)
    if found.ambiguous:
        reason = (
            f"The SEARCH lines appear in more than one place in {path}, so Flint cannot tell "
            "which one is meant; nothing was changed. Ask the model to include more of the "
            "surrounding lines, or use Apply anyway to change the first of them."
        )
        return ws.reject(path, hunk, reason, block.search, [span], code)
    return with_code(ws.update(path, hunk, [span]), code)
