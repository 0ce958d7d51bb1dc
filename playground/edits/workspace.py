"""The files being edited, and the only code that changes them.

Every format's planner produces spans; this module checks them (syntax) and
either commits them, emitting ``EditApplied``, or leaves the files untouched,
emitting ``EditRejected``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from playground.edits.diffing import minimal_spans
from playground.edits.languages import (
    KIND_NAMES,
    PlaygroundKind,
    display_name,
    fits_path,
    language_for_path,
)
from playground.edits.model import EditApplied, EditEvent, EditRejected, Span
from playground.edits.offsets import spans_to_ops
from playground.edits.spans import OverlapError, apply_spans, normalize


def caret_snippet(lines: Sequence[str]) -> str:
    """The first offending line with a caret row under its text."""
    if not lines:
        return ""
    first = lines[0]
    indent = len(first) - len(first.lstrip())
    return f"{first}\n{' ' * indent}{'^' * max(1, len(first.strip()))}"


def with_code(event: EditEvent, code: str) -> EditEvent:
    """``event`` with the answer's code attached, if it is a refusal without any."""
    if isinstance(event, EditRejected) and not event.code:
        return replace(event, code=code)
    return event


class Workspace:
    def __init__(self, files: Mapping[str, str], kind: PlaygroundKind | None = None) -> None:
        # Imported here to keep tree-sitter out of the import path of light helpers.
        from playground.edits.syntax import SyntaxChecker

        self.files: dict[str, str] = dict(files)
        self.kind = kind  # a new file must be of use in this kind of playground
        self._syntax = SyntaxChecker()

    def reject(
        self,
        path: str,
        hunk: int,
        reason: str,
        lines: Sequence[str] = (),
        spans: Iterable[Span] | None = None,
        code: str = "",
    ) -> EditRejected:
        """Refuse an edit; ``spans`` (against ``path`` now) become its "Apply anyway" ops,
        ``code`` is the answer's code for it (for "Copy")."""
        ops = None
        if spans is not None:
            old = self.files.get(path, "")
            try:
                ops = spans_to_ops(old, normalize(old, spans)) or None
            except OverlapError:
                ops = None
        snippet = caret_snippet(lines)
        return EditRejected(path, hunk, reason, "\n".join(lines), snippet, ops=ops, code=code)

    def update(
        self, path: str, hunk: int, spans: Iterable[Span], new_path: str | None = None
    ) -> EditEvent:
        """Apply ``spans`` to ``path`` (and move it to ``new_path`` if given)."""
        old = self.files[path]
        try:
            spans = normalize(old, spans)
        except OverlapError:
            reason = (
                f"Two parts of this change to {path} overlap, so Flint cannot tell which one "
                "to apply; nothing was changed. Ask the model to send the change again."
            )
            return self.reject(path, hunk, reason)
        target = new_path or path
        moving = target != path
        if not spans and not moving:
            return EditApplied(path, hunk, [], "unchanged")
        event = self._commit(target, old, apply_spans(old, spans), spans, hunk, path)
        if isinstance(event, EditRejected):
            return event
        if moving:
            del self.files[path]
            self._syntax.forget(path)
            return EditApplied(path, hunk, event.ops, "move", target)
        return EditApplied(path, hunk, event.ops, "update")

    def add(self, path: str, hunk: int, text: str) -> EditEvent:
        """Create ``path`` with ``text``, or overwrite it (as a minimal diff)."""
        old = self.files.get(path)
        if old is None and self.kind is not None and not fits_path(self.kind, path):
            reason = (
                f"This is a {KIND_NAMES[self.kind]} playground; the answer's {path} was not "
                "added. Copy the code if you want to keep it."
            )
            return self.reject(path, hunk, reason, code=text)
        spans = minimal_spans(old, text) if old is not None else [Span(0, 0, text)]
        spans = [s for s in spans if s.start != s.end or s.insert]
        if old == text:
            return EditApplied(path, hunk, [], "unchanged")
        event = self._commit(path, old, text, spans, hunk, path)
        if isinstance(event, EditRejected):
            return with_code(event, text)
        return EditApplied(path, hunk, event.ops, "add")

    def delete(self, path: str, hunk: int) -> EditEvent:
        if path in self.files:
            del self.files[path]
            self._syntax.forget(path)
            return EditApplied(path, hunk, [], "delete")
        prefix = path.rstrip("/") + "/"
        if any(name.startswith(prefix) for name in self.files):
            reason = (
                f"The change deletes {path}, but that is a directory, not a file, so nothing "
                "was deleted."
            )
            return self.reject(path, hunk, reason)
        reason = f"There is no such file as {path}, so there was nothing to delete."
        return self.reject(path, hunk, reason)

    def _commit(
        self, target: str, old: str | None, new: str, spans: list[Span], hunk: int, path: str
    ) -> EditEvent:
        """Syntax-check ``old`` -> ``new`` at ``target``; store it if it passes."""
        ops = spans_to_ops(old or "", spans)
        verdict = self._syntax.check(target, old, new, spans)
        problem = verdict.problem
        if problem is not None:
            lang = display_name(language_for_path(target) or "")
            reason = (
                f"This change would break the {lang} syntax of {target} at line "
                f"{problem.line}, column {problem.column} ({problem.message}), so it was not "
                "applied. Ask the model to fix it, or use Apply anyway to keep it as it is."
            )
            return EditRejected(
                path,
                hunk,
                reason,
                problem.line_text,
                problem.snippet,
                problem.line,
                problem.column,
                ops,
            )
        self.files[target] = new
        self._syntax.store(target, verdict.parsed)
        return EditApplied(target, hunk, ops, "update")
