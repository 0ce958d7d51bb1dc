"""Turn parsed ``apply_patch`` file operations into workspace edits."""

from __future__ import annotations

from dataclasses import dataclass

from playground.edits.lines import LineTable
from playground.edits.model import EditEvent, Span
from playground.edits.patch_parse import Chunk, FileOp, ParseError
from playground.edits.paths import bad_path
from playground.edits.workspace import Workspace, with_code


@dataclass(frozen=True)
class Miss:
    """Why a chunk could not be placed."""

    reason: str
    lines: list[str]
    code: str = ""  # the chunk's new lines, for "Copy"


def apply_item(ws: Workspace, item: FileOp | ParseError, hunk: int) -> EditEvent:
    if isinstance(item, ParseError):
        return ws.reject(item.path, hunk, item.reason, [item.line] if item.line else [])
    op = item
    for path in (op.path, op.move_to):
        problem = bad_path(path) if path is not None else None
        if problem:
            return ws.reject(op.path, hunk, problem, [path or ""])
    if op.kind == "add":
        return ws.add(op.path, hunk, "".join(line + "\n" for line in op.add_lines))
    if op.kind == "delete":
        return ws.delete(op.path, hunk)
    if op.path not in ws.files:
        return ws.reject(op.path, hunk, missing_file(op.path))
    if not op.chunks:
        reason = (
            f"The patch for {op.path} does not say which lines to change, so it was not "
            "applied. Ask the model to send the change again."
        )
        return ws.reject(op.path, hunk, reason)
    planned = plan_update(ws.files[op.path], op.chunks, op.path)
    if isinstance(planned, Miss):
        return ws.reject(op.path, hunk, planned.reason, planned.lines, code=planned.code)
    code = "\n...\n".join("\n".join(chunk.new) for chunk in op.chunks)
    return with_code(ws.update(op.path, hunk, planned, op.move_to), code)


def missing_file(path: str) -> str:
    return (
        f"There is no such file as {path}, so the change to it was not applied. Ask the "
        "model to create it, or to change an existing file."
    )


_REDO = "Ask the model to redo it against the current file."


def _part(number: int, chunks: int) -> str:
    return "this change" if chunks == 1 else f"part {number} of this change"


def plan_update(text: str, chunks: list[Chunk], path: str) -> list[Span] | Miss:
    """Spans for every chunk of one Update, or the first chunk that cannot be placed.

    Chunks are searched in order, each after the previous one (as Codex does).
    """
    table = LineTable.of(text)
    pos = 0
    spans: list[Span] = []
    for number, chunk in enumerate(chunks, 1):
        placed = _place(table, chunk, pos, _part(number, len(chunks)), path)
        if isinstance(placed, Miss):
            return placed
        span, pos = placed
        spans.append(span)
    return spans


def _without_trailing_blank(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop the last context/removed line if it is blank (models add one freely)."""
    for i in range(len(lines) - 1, -1, -1):
        marker, text = lines[i]
        if marker != "+":
            return lines[:i] + lines[i + 1 :] if not text.strip() else lines
    return lines


def _new_lines(lines: list[tuple[str, str]], matched: list[str]) -> list[str]:
    """The chunk's result, keeping the file's own text for context lines.

    Context may have matched only after whitespace or punctuation folding; the
    model's spelling of it must not overwrite the file.
    """
    result: list[str] = []
    k = 0
    for marker, text in lines:
        if marker == " ":
            result.append(matched[k])
        if marker != "+":
            k += 1
        else:
            result.append(text)
    return result


def _place(
    table: LineTable, chunk: Chunk, pos: int, part: str, path: str
) -> tuple[Span, int] | Miss:
    code = "\n".join(chunk.new)
    for anchor in chunk.anchors:
        found = table.find([anchor], pos)
        if found.index is None:
            reason = (
                f"The line '{anchor}' that {part} is anchored to (its @@ line) was not found "
                f"in {path}, so the change was not applied. {_REDO}"
            )
            return Miss(reason, [anchor], code)
        pos = found.index + 1
    body = chunk.lines
    old = chunk.old
    if not old:
        # Pure addition: after the anchor if there is one, else at the end of the
        # file but before a final blank line (Codex's rule).
        at = pos if chunk.anchors else table.count - (1 if table.last_line_blank else 0)
        return table.replace(at, 0, chunk.new), at
    found = table.find(old, pos, chunk.eof)
    if found.index is None and not old[-1].strip():
        body = _without_trailing_blank(body)
        old = [text for marker, text in body if marker != "+"]
        found = table.find(old, pos, chunk.eof)
    if found.index is None:
        reason = (
            f"The lines {part} replaces were not found in {path} (the model may have "
            f"misquoted them, or the file has changed), so it was not applied. {_REDO}"
        )
        return Miss(reason, chunk.old, code)
    if found.ambiguous and not chunk.anchors:
        reason = (
            f"The lines {part} replaces appear in more than one place in {path}, so Flint "
            "cannot tell which one is meant; nothing was changed. Ask the model to include "
            "more of the surrounding lines."
        )
        return Miss(reason, chunk.old, code)
    start = found.index
    new = _new_lines(body, table.line_range(start, len(old)))
    return table.replace(start, len(old), new), start + len(old)
