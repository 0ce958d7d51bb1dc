"""One-shot entry points: apply a complete answer to a dict of files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from playground.edits.languages import PlaygroundKind
from playground.edits.model import EditApplied, EditRejected, EditResult, Op
from playground.edits.offsets import ops_to_spans
from playground.edits.spans import apply_spans
from playground.edits.stream import EditStream, Format


def _run(
    files: Mapping[str, str],
    text: str,
    fmt: Format,
    active: str | None,
    kind: PlaygroundKind | None = None,
) -> EditResult:
    # The batch API is the stream fed in one piece, so both always agree.
    stream = EditStream(files, active=active, fmt=fmt, kind=kind)
    events = stream.feed(text) + stream.finish()
    return EditResult(
        files=stream.files,
        errors=[e for e in events if isinstance(e, EditRejected)],
        applied=[e for e in events if isinstance(e, EditApplied) and e.changed],
        unchanged=[e for e in events if isinstance(e, EditApplied) and not e.changed],
    )


def apply_patch(files: Mapping[str, str], patch: str) -> EditResult:
    """Apply a Codex ``apply_patch`` envelope. Never raises on bad model output."""
    return _run(files, patch, "patch", None)


def apply_search_replace(files: Mapping[str, str], text: str) -> EditResult:
    """Apply aider-style SEARCH/REPLACE blocks."""
    return _run(files, text, "search_replace", None)


def apply_code_blocks(
    files: Mapping[str, str],
    text: str,
    active: str | None = None,
    kind: PlaygroundKind | None = None,
) -> EditResult:
    """Apply fenced code blocks as whole-symbol or whole-file edits."""
    return _run(files, text, "code_blocks", active, kind)


def apply_edits(
    files: Mapping[str, str],
    text: str,
    active: str | None = None,
    kind: PlaygroundKind | None = None,
) -> EditResult:
    """Detect the answer's format(s) and apply it (``kind``: see ``EditStream``)."""
    return _run(files, text, "auto", active, kind)


def force_apply(files: Mapping[str, str], path: str, ops: Sequence[Op]) -> dict[str, str]:
    """Apply wire ops (UTF-16, CodeMirror semantics) to ``path`` without any check.

    This is "apply anyway" for a syntax rejection. Raises ``ValueError`` if the
    ops are out of order, overlap, or fall outside the text.
    """
    text = files.get(path, "")
    spans = ops_to_spans(text, ops)
    for before, after in pairwise(spans):
        if after.start < before.end:
            raise ValueError("ops overlap or are not sorted")
    if any(s.start > s.end for s in spans):
        raise ValueError("an op ends before it starts")
    result = dict(files)
    result[path] = apply_spans(text, spans)
    return result
