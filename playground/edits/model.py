"""Value types shared by every part of the edit engine.

Positions on the wire (``Op``) are UTF-16 code units, the unit CodeMirror uses;
positions inside the engine (``Span``) are Python ``str`` indices. Only
``offsets.py`` converts between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

# "unchanged": the edit was understood, but the file already reads exactly like
# that; ``ops`` is empty and the page should say "no change", not "applied".
Kind = Literal["update", "add", "delete", "move", "unchanged"]

# ``from`` is a keyword, hence the functional TypedDict syntax.
Op = TypedDict("Op", {"from": int, "to": int, "insert": str})


@dataclass(frozen=True)
class Span:
    """Replace ``text[start:end]`` with ``insert`` (Python indices, pre-edit text)."""

    start: int
    end: int
    insert: str


@dataclass(frozen=True)
class EditApplied:
    """An edit that passed every check and is now part of the files.

    ``kind="unchanged"`` (with ``ops == []``) is an edit that changed nothing,
    e.g. a whole-file block identical to the file: not "applied", but not a
    refusal either.
    """

    path: str
    hunk: int
    ops: list[Op]
    kind: Kind
    new_path: str | None = None

    def to_wire(self) -> dict[str, object]:
        wire: dict[str, object] = {
            "path": self.path,
            "hunk": self.hunk,
            "kind": self.kind,
            "ops": [dict(op) for op in self.ops],
        }
        if self.new_path is not None:
            wire["new_path"] = self.new_path
        return wire

    @property
    def changed(self) -> bool:
        return self.kind != "unchanged"


@dataclass(frozen=True)
class EditRejected:
    """An edit that was not applied; the files are exactly as before it.

    ``reason`` says in plain words what happened and what the learner can do.
    ``ops`` is set whenever the engine worked out what the edit would do (a
    syntax rejection, an unclosed block, a fragment it could only add at the
    end, ...), against ``path`` as it is now, so a client can offer "Apply
    anyway"; ``None`` when there is nothing sensible to apply. ``code`` is the
    answer's code for this edit (for a "Copy" button); ``lines``/``snippet``
    point at the offending line.
    """

    path: str
    hunk: int
    reason: str
    lines: str = ""
    snippet: str = ""
    line: int | None = None
    column: int | None = None
    ops: list[Op] | None = None
    code: str = ""

    def to_wire(self) -> dict[str, object]:
        return {
            "path": self.path,
            "hunk": self.hunk,
            "reason": self.reason,
            "lines": self.lines,
            "snippet": self.snippet,
            "line": self.line,
            "column": self.column,
            "ops": None if self.ops is None else [dict(op) for op in self.ops],
            "code": self.code,
        }


EditEvent = EditApplied | EditRejected

# The batch API reports the same objects the stream emits.
AppliedEdit = EditApplied
EditError = EditRejected


@dataclass
class EditResult:
    """Outcome of applying a whole answer at once.

    ``applied`` holds the edits that changed something; ``unchanged`` the ones
    that matched but changed nothing (``kind="unchanged"``).
    """

    files: dict[str, str]
    errors: list[EditError] = field(default_factory=list)
    applied: list[AppliedEdit] = field(default_factory=list)
    unchanged: list[AppliedEdit] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
