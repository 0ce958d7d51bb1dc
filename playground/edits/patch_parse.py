"""Line-at-a-time parser for Codex ``apply_patch`` envelopes.

It is fed one complete line at a time and hands back each file operation as
soon as the line after it arrives (the next ``*** `` header or ``*** End Patch``),
so the stream can apply it while the model is still typing.
Markers are compared after stripping surrounding whitespace, like Codex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BEGIN = "*** Begin Patch"
END = "*** End Patch"
END_OF_FILE = "*** End of File"
_HEADER = re.compile(r"\*\*\* (Add|Delete|Update) File: (.+)")
_MOVE = re.compile(r"\*\*\* Move to: (.+)")
# Unified-diff range headers ("@@ -3,7 +3,8 @@") carry no usable anchor text.
_RANGE_HEADER = re.compile(r"@@ -\d+(,\d+)? \+\d+(,\d+)? @@.*")


@dataclass
class Chunk:
    anchors: list[str] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (marker, text), in order
    eof: bool = False

    @property
    def has_lines(self) -> bool:
        return bool(self.lines)

    @property
    def old(self) -> list[str]:
        return [text for marker, text in self.lines if marker != "+"]

    @property
    def new(self) -> list[str]:
        return [text for marker, text in self.lines if marker != "-"]


@dataclass
class FileOp:
    kind: Literal["add", "delete", "update"]
    path: str
    move_to: str | None = None
    add_lines: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class ParseError:
    reason: str
    line: str
    path: str = ""


Item = FileOp | ParseError


def is_header(line: str) -> bool:
    """True for a line that starts a file operation (used to detect the format)."""
    return _HEADER.fullmatch(line.strip()) is not None


class PatchParser:
    def __init__(self) -> None:
        self.op: FileOp | None = None
        self.done = False
        self.count = 0  # file operations seen, to reject an empty envelope
        self._skipping = False  # after a bad header, until the next good one
        self._pending_blanks = 0  # blank lines inside an Add body, kept if more "+" follow

    def feed(self, line: str) -> list[Item]:
        stripped = line.strip()
        if stripped == END:
            return self.close()
        header = _HEADER.fullmatch(stripped)
        if header:
            items = self._flush()
            self._skipping = False
            return items + self._start(header.group(1), header.group(2).strip())
        if self.op is not None:
            return self._body(line, stripped)
        if not stripped or self._skipping:
            return []
        self._skipping = True
        reason = (
            f"The patch has a line Flint does not understand, '{stripped}', where a file "
            "operation (*** Update File: ...) should start, so that part was not applied. "
            "Ask the model to send the change again."
        )
        return [ParseError(reason, stripped)]

    def close(self) -> list[Item]:
        """End of the envelope (``*** End Patch``, closing fence or end of answer)."""
        items = self._flush()
        if self.count == 0 and not self.done:
            reason = (
                "The patch contains no file operations, so nothing was changed. Ask the "
                "model to send the change again."
            )
            items.append(ParseError(reason, ""))
        self.done = True
        return items

    def _start(self, kind: str, path: str) -> list[Item]:
        self.count += 1
        if kind == "Delete":
            # A delete has no body: it is complete as soon as its header arrives.
            return [FileOp("delete", path)]
        self.op = FileOp("add" if kind == "Add" else "update", path)
        return []

    def _flush(self) -> list[Item]:
        op, self.op = self.op, None
        self._pending_blanks = 0
        if op is None:
            return []
        op.chunks = [c for c in op.chunks if c.has_lines]
        return [op]

    def _body(self, line: str, stripped: str) -> list[Item]:
        op = self.op
        assert op is not None
        if op.kind == "add":
            return self._add_line(op, line)
        move = _MOVE.fullmatch(stripped)
        if move and not op.chunks and op.move_to is None:
            op.move_to = move.group(1).strip()
            return []
        if self._chunk_line(op, line, stripped):
            return []
        # Anything else ends the operation; the line itself must then be a header.
        return self._flush() + self.feed(line)

    def _add_line(self, op: FileOp, line: str) -> list[Item]:
        if line.startswith("+"):
            op.add_lines += [""] * self._pending_blanks + [line[1:]]
            self._pending_blanks = 0
            return []
        if not line.strip():
            self._pending_blanks += 1
            return []
        return self._flush() + self.feed(line)

    def _chunk_line(self, op: FileOp, line: str, stripped: str) -> bool:
        """Add ``line`` to the current chunk; False if it is not a chunk line."""
        chunk = op.chunks[-1] if op.chunks else None
        if stripped.startswith("@@"):
            anchor = "" if _RANGE_HEADER.fullmatch(stripped) else stripped[2:].strip()
            if chunk is None or chunk.has_lines or chunk.eof:
                op.chunks.append(Chunk())
            if anchor:  # stacked "@@ a" / "@@ b" lines drill down
                op.chunks[-1].anchors.append(anchor)
            return True
        if stripped == END_OF_FILE and chunk is not None:
            chunk.eof = True
            return True
        if not line or line[0] in " +-":
            if chunk is None or chunk.eof:
                chunk = Chunk()
                op.chunks.append(chunk)
            chunk.lines.append((line[0], line[1:]) if line else (" ", ""))
            return True
        return False
