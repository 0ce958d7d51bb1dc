"""The one place that converts Python ``str`` indices to UTF-16 code units and back.

Python indexes text by code point; CodeMirror (and every JS string) by UTF-16
code unit. They differ only for astral characters (emoji, rare CJK), which take
two UTF-16 units but one Python index. Combining marks are separate code points
in both, so they need no special care.
"""

from __future__ import annotations

from collections.abc import Iterable

from playground.edits.model import Op, Span

_ASTRAL_MIN = 0x10000
_HIGH_SURROGATES = range(0xD800, 0xDC00)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    if text.isascii():  # fast path: C-speed check, the common case for code
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def py_to_utf16(text: str, index: int) -> int:
    """UTF-16 offset of Python index ``index`` in ``text``."""
    if not 0 <= index <= len(text):
        raise ValueError(f"index {index} outside text of length {len(text)}")
    return utf16_len(text[:index])


def utf16_to_py(text: str, offset: int) -> int:
    """Python index of UTF-16 offset ``offset``; rejects offsets inside a surrogate pair."""
    if text.isascii():
        if not 0 <= offset <= len(text):
            raise ValueError(f"offset {offset} outside text")
        return offset
    units = text.encode("utf-16-le", "surrogatepass")
    if not 0 <= offset <= len(units) // 2:
        raise ValueError(f"offset {offset} outside text")
    if offset and int.from_bytes(units[2 * offset - 2 : 2 * offset], "little") in _HIGH_SURROGATES:
        raise ValueError(f"offset {offset} splits a surrogate pair")
    return len(units[: 2 * offset].decode("utf-16-le", "surrogatepass"))


def spans_to_ops(text: str, spans: Iterable[Span]) -> list[Op]:
    """Convert sorted, non-overlapping spans against ``text`` to wire ops.

    Walks the text once, so the cost is one pass however many spans there are.
    """
    ops: list[Op] = []
    if text.isascii():
        return [{"from": s.start, "to": s.end, "insert": s.insert} for s in spans]
    py_pos = 0
    u16_pos = 0
    for span in spans:
        u16_pos += utf16_len(text[py_pos : span.start])
        start = u16_pos
        u16_pos += utf16_len(text[span.start : span.end])
        py_pos = span.end
        ops.append({"from": start, "to": u16_pos, "insert": span.insert})
    return ops


def ops_to_spans(text: str, ops: Iterable[Op]) -> list[Span]:
    """Inverse of :func:`spans_to_ops`; raises ``ValueError`` on bad offsets."""
    return [
        Span(utf16_to_py(text, op["from"]), utf16_to_py(text, op["to"]), op["insert"]) for op in ops
    ]


def has_astral(text: str) -> bool:
    """True if any character needs two UTF-16 units."""
    return not text.isascii() and any(ord(ch) >= _ASTRAL_MIN for ch in text)
