"""Flint's edit engine: turn a code model's answer into precise, checked file edits.

Pure Python (no Django). Files are a ``dict[str, str]`` of relative path -> text.

Formats, detected automatically by :func:`apply_edits` / ``EditStream(fmt="auto")``:

* Codex ``apply_patch`` envelopes (``*** Begin Patch`` ... ``*** End Patch``);
* aider-style SEARCH/REPLACE blocks;
* fenced code blocks, applied as whole-symbol edits (replace/append top-level
  definitions found with tree-sitter) or, when the block is clearly the whole
  file, as a minimal diff-match-patch diff.

Every edit is syntax-checked with tree-sitter (incrementally) before it is
accepted: an edit that adds ERROR/MISSING nodes is rejected and the files stay
byte-identical.

Public API
----------
``apply_patch(files, patch) -> EditResult``
``apply_search_replace(files, text) -> EditResult``
``apply_code_blocks(files, text, active=None) -> EditResult``
``apply_edits(files, text, active=None) -> EditResult``
    One-shot application. Never raise on bad model output.
``EditResult``: ``.files``, ``.errors: list[EditError]``, ``.applied: list[AppliedEdit]``.
``EditStream(files, active=None, fmt="auto", kind=None)``
    ``.feed(delta) -> list[EditEvent]``, ``.finish() -> list[EditEvent]``, ``.files``,
    ``.kind`` (``"web"``/``"python"``/``None``, from the files unless given).
``EditApplied(path, hunk, ops, kind, new_path=None)`` (``kind="unchanged"``: nothing
    changed) and ``EditRejected(path, hunk, reason, lines, snippet, line=None,
    column=None, ops=None, code="")``, both with ``.to_wire()``.
    ``AppliedEdit``/``EditError`` are the same classes.
``playground_kind(files)``; ``is_echo_line(line, paths, lang)`` (prompt echoes).
``force_apply(files, path, ops) -> dict`` applies wire ops unchecked ("apply anyway").

Ops are ``{"from", "to", "insert"}`` in UTF-16 code units against the file as it
was right before that edit, sorted and disjoint (CodeMirror ChangeSet semantics).
"""

from playground.edits.api import (
    apply_code_blocks,
    apply_edits,
    apply_patch,
    apply_search_replace,
    force_apply,
)
from playground.edits.echo import is_echo_line
from playground.edits.languages import PlaygroundKind, playground_kind
from playground.edits.model import (
    AppliedEdit,
    EditApplied,
    EditError,
    EditEvent,
    EditRejected,
    EditResult,
    Kind,
    Op,
)
from playground.edits.stream import FORMATS, EditStream, Format

__all__ = [
    "FORMATS",
    "AppliedEdit",
    "EditApplied",
    "EditError",
    "EditEvent",
    "EditRejected",
    "EditResult",
    "EditStream",
    "Format",
    "Kind",
    "Op",
    "PlaygroundKind",
    "apply_code_blocks",
    "apply_edits",
    "apply_patch",
    "apply_search_replace",
    "force_apply",
    "is_echo_line",
    "playground_kind",
]
