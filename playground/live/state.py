"""A presentation's document state and the one rule that changes it (pure).

The server is the authority for what viewers see. The presenting page sends
batches ("pushes") of its editors' changes, each against the version it last had
acknowledged; the server applies a batch only at its current version, numbers it
(the next version) and hands it to every viewer in that order. A viewer that
holds version N applies N+1, N+2, ... and nothing else, so it can neither skip
nor repeat a change. A push that replaces the whole file set (a file added,
deleted or renamed, a restore) does not depend on what came before and is taken
at any version: that is how a presenting page that lost track (a second tab, a
server restart) gets back in step.

Positions are UTF-16 code units, like every text position on the wire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.edits.offsets import utf16_len, utf16_to_py
from playground.errors import InvalidInputError


class LiveBehindError(InvalidInputError):
    """The push was made against an older version than the server's."""

    code = "live.behind"
    status = 409
    retryable_default = True

    def __init__(self, version: int, base: int) -> None:
        super().__init__(
            f"These changes were made on version {base}, but the presentation is at "
            f"version {version}; send the whole file set to catch up.",
            version=version,
        )


class LiveInvalidError(InvalidInputError):
    code = "live.invalid"


@dataclass(frozen=True, slots=True)
class Change:
    """Replace [start, end) of ``path`` (UTF-16 offsets) with ``insert``."""

    path: str
    start: int
    end: int
    insert: str


@dataclass(frozen=True, slots=True)
class Push:
    base: int
    changes: Sequence[Change] = ()
    files: Mapping[str, str] | None = None
    active: str | None = None


@dataclass(slots=True)
class LiveState:
    version: int = 0
    files: dict[str, str] = field(default_factory=dict)
    active: str | None = None
    gen: str | None = None  # the generation the presenter started last
    ended: bool = False
    instruction: str | None = None  # what the presenter asked in ``gen``
    files_at: int = 0  # the version that last changed the files (not a generation's start)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "files": self.files,
            "active": self.active,
            "gen": self.gen,
            "ended": self.ended,
            "instruction": self.instruction,
            "files_at": self.files_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiveState:
        return cls(
            version=int(data["version"]),
            files=dict(data["files"]),
            active=data.get("active"),
            gen=data.get("gen"),
            ended=bool(data.get("ended", False)),
            instruction=data.get("instruction"),
            files_at=int(data.get("files_at", 0)),
        )


def apply_push(state: LiveState, push: Push) -> tuple[LiveState, dict[str, Any]]:
    """The state after ``push`` and the update viewers get for it.

    Raises LiveBehindError (a change batch made on an older version) or
    LiveInvalidError (a change outside its file, in a file that does not exist, or a
    second change to one file).
    ``state`` itself is left as it was.
    """
    # Changes fit the files as they were at ``base``: they apply if nothing has changed
    # the files since (a generation announced in between changes no file).
    if push.files is None and not state.files_at <= push.base <= state.version:
        raise LiveBehindError(state.version, push.base)
    files = dict(push.files) if push.files is not None else dict(state.files)
    changed: set[str] = set()
    for change in push.changes:
        # One per file: each costs a pass over its file, and a batch of them on a
        # large one would hold the server's loop (the page sends one span per file).
        if change.path in changed:
            raise LiveInvalidError(
                f"The push makes more than one change to {change.path}; send one span "
                "per file (from the first position that differs to the last)."
            )
        changed.add(change.path)
        files[change.path] = _apply(files, change)
    active = push.active if push.active is not None else state.active
    if active is not None and active not in files:
        active = next(iter(sorted(files)), None)
    version = state.version + 1
    new = dataclasses.replace(state, version=version, files=files, active=active, files_at=version)
    update: dict[str, Any] = {"version": new.version}
    if push.files is not None:
        update["files"] = files
    else:
        update["changes"] = [
            {"path": c.path, "from": c.start, "to": c.end, "insert": c.insert} for c in push.changes
        ]
    if active != state.active or push.files is not None:
        update["active"] = active
    return new, update


def _apply(files: Mapping[str, str], change: Change) -> str:
    text = files.get(change.path)
    if text is None:
        raise LiveInvalidError(f"There is no file named {change.path!r} in the presentation.")
    length = utf16_len(text)
    if not 0 <= change.start <= change.end <= length:
        raise LiveInvalidError(
            f"The change to {change.path} ({change.start}-{change.end}) is outside the file "
            f"({length} characters); send the whole file set."
        )
    try:
        start, end = utf16_to_py(text, change.start), utf16_to_py(text, change.end)
    except ValueError as exc:
        raise LiveInvalidError(
            f"The change to {change.path} is not on a character: {exc}."
        ) from None
    return text[:start] + change.insert + text[end:]


def apply_update(files: Mapping[str, str], update: Mapping[str, Any]) -> dict[str, str]:
    """What a viewer holding ``files`` has after ``update`` (the viewers' side, for tests)."""
    if "files" in update:
        return dict(update["files"])
    out = dict(files)
    for c in update.get("changes", ()):
        out[c["path"]] = _apply(out, Change(c["path"], c["from"], c["to"], c["insert"]))
    return out
