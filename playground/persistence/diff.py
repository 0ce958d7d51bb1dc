"""Per-file unified diffs between two file sets (for the history view).

Pure: difflib, no Django. Line-oriented text for people; the editor's
character-level edits live in playground/edits.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: Status
    diff: str  # unified diff text, "a/<path>" (old) against "b/<path>" (new)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def files_diff(old: Mapping[str, str], new: Mapping[str, str]) -> list[FileDiff]:
    """Every file that differs, sorted by path; unchanged files are left out."""
    out: list[FileDiff] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        status: Status = "added" if before is None else "removed" if after is None else "changed"
        lines = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile="/dev/null" if before is None else f"a/{path}",
            tofile="/dev/null" if after is None else f"b/{path}",
        )
        out.append(FileDiff(path, status, "".join(_newline_terminated(lines))))
    return out


def _newline_terminated(lines: Any) -> Any:
    for line in lines:
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
