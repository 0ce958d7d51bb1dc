"""Operations on ``Span`` lists: make them minimal, ordered, disjoint; apply them."""

from __future__ import annotations

from collections.abc import Iterable

from playground.edits.model import Span


class OverlapError(ValueError):
    """Two spans of one edit claim the same text."""


def common_prefix_len(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search keeps it C-speed)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix_len(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def trim(text: str, span: Span) -> Span | None:
    """Shrink ``span`` to the part that really changes; ``None`` if it changes nothing."""
    old = text[span.start : span.end]
    new = span.insert
    pre = common_prefix_len(old, new)
    # The suffix may not reuse characters already claimed by the prefix.
    suf = common_suffix_len(old[pre:], new[pre:])
    start, end = span.start + pre, span.end - suf
    insert = new[pre : len(new) - suf]
    if start == end and not insert:
        return None
    return Span(start, end, insert)


def normalize(text: str, spans: Iterable[Span]) -> list[Span]:
    """Sort, merge touching spans, trim each to its minimal change.

    The result is strictly ordered and disjoint, which is what CodeMirror's
    ChangeSet needs. Raises ``OverlapError`` if two spans overlap.
    """
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    merged: list[Span] = []
    for span in ordered:
        if merged and span.start < merged[-1].end:
            raise OverlapError(f"spans overlap at {span.start}")
        if merged and span.start == merged[-1].end:
            last = merged.pop()
            span = Span(last.start, span.end, last.insert + span.insert)
        merged.append(span)
    result: list[Span] = []
    for span in merged:
        trimmed = trim(text, span)
        if trimmed is not None:
            result.append(trimmed)
    return result


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """Apply ordered, disjoint spans (all relative to ``text``)."""
    parts: list[str] = []
    pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(span.insert)
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)
