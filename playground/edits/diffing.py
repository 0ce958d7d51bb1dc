"""Minimal spans turning one text into another, via diff-match-patch.

Line mode first (fast on big files: each line becomes one character), then each
replaced block is re-diffed character by character and cleaned up semantically,
so a one-word change yields a one-word op rather than a whole-line one.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch

from playground.edits.model import Span

_EQUAL = 0
_INSERT = 1
_DELETE = -1


def _engine() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 1.0  # seconds; a bound for pathological inputs only
    return dmp


def _char_spans(dmp: diff_match_patch, old: str, new: str, offset: int) -> list[Span]:
    """Spans for one replaced block, refined to character level."""
    diffs = dmp.diff_main(old, new, False)
    dmp.diff_cleanupSemantic(diffs)
    spans: list[Span] = []
    pos = offset
    for op, data in diffs:
        if op == _EQUAL:
            pos += len(data)
        elif op == _DELETE:
            spans.append(Span(pos, pos + len(data), ""))
            pos += len(data)
        elif spans and spans[-1].end == pos:
            last = spans.pop()
            spans.append(Span(last.start, last.end, last.insert + data))
        else:
            spans.append(Span(pos, pos, data))
    return spans


def minimal_spans(old: str, new: str) -> list[Span]:
    """Ordered, disjoint spans that turn ``old`` into ``new``."""
    if old == new:
        return []
    dmp = _engine()
    chars_old, chars_new, table = dmp.diff_linesToChars(old, new)
    diffs = dmp.diff_main(chars_old, chars_new, False)
    dmp.diff_charsToLines(diffs, table)
    spans: list[Span] = []
    pos = 0
    deleted: list[str] = []
    inserted: list[str] = []
    block_start = 0
    for op, data in [*diffs, (_EQUAL, "")]:
        if op != _EQUAL:
            if not deleted and not inserted:
                block_start = pos
            (deleted if op == _DELETE else inserted).append(data)
            pos += len(data) if op == _DELETE else 0
            continue
        if deleted or inserted:
            spans += _char_spans(dmp, "".join(deleted), "".join(inserted), block_start)
            deleted, inserted = [], []
        pos += len(data)
    return spans
