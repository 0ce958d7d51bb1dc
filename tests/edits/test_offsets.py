from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground.edits.model import Span
from playground.edits.offsets import (
    has_astral,
    ops_to_spans,
    py_to_utf16,
    spans_to_ops,
    utf16_len,
    utf16_to_py,
)
from playground.edits.spans import apply_spans

EMOJI = "a😀b"  # 😀 is two UTF-16 units, one Python index
CJK = "中文字"  # BMP: one unit each
COMBINING = "e\u0301x"  # e + combining acute: two code points, two units


def test_it_counts_an_emoji_as_two_utf16_units() -> None:
    assert utf16_len(EMOJI) == 4
    assert py_to_utf16(EMOJI, 2) == 3
    assert utf16_to_py(EMOJI, 3) == 2


def test_it_counts_cjk_and_combining_marks_as_one_unit_per_code_point() -> None:
    assert utf16_len(CJK) == 3
    assert py_to_utf16(COMBINING, 2) == 2
    assert utf16_to_py(CJK + EMOJI, 4) == 4


def test_it_refuses_an_offset_inside_a_surrogate_pair() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        utf16_to_py(EMOJI, 2)


def test_it_refuses_offsets_outside_the_text() -> None:
    with pytest.raises(ValueError):
        utf16_to_py("abc", 4)
    with pytest.raises(ValueError):
        py_to_utf16("abc", -1)


def test_spans_after_an_emoji_shift_by_one_unit() -> None:
    text = "😀 x = 1\n"
    ops = spans_to_ops(text, [Span(2, 3, "y"), Span(6, 7, "2")])
    assert ops == [{"from": 3, "to": 4, "insert": "y"}, {"from": 7, "to": 8, "insert": "2"}]
    assert ops_to_spans(text, ops) == [Span(2, 3, "y"), Span(6, 7, "2")]


def test_has_astral_spots_emoji_only() -> None:
    assert has_astral(EMOJI)
    assert not has_astral(CJK + COMBINING)


_chars = st.sampled_from(["a", "\n", "é", "中", "😀", "\u0301", "🇫🇷", " "])
texts = st.lists(_chars, max_size=40).map("".join)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    spans = [Span(a, b, draw(texts)) for a, b in pairs]
    return text, spans


def _apply_utf16(text: str, ops: list[dict[str, object]]) -> str:
    """Apply ops the way JavaScript would: on UTF-16 code units."""
    units = text.encode("utf-16-le", "surrogatepass")
    out = b""
    pos = 0
    for op in ops:
        start, end = int(str(op["from"])), int(str(op["to"]))
        out += units[2 * pos : 2 * start] + str(op["insert"]).encode("utf-16-le", "surrogatepass")
        pos = end
    out += units[2 * pos :]
    return out.decode("utf-16-le", "surrogatepass")


@given(text_and_spans())
def test_ops_applied_to_utf16_give_the_same_text_as_spans_applied_in_python(
    case: tuple[str, list[Span]],
) -> None:
    text, spans = case
    ops = spans_to_ops(text, spans)
    assert _apply_utf16(text, [dict(op) for op in ops]) == apply_spans(text, spans)


@given(texts, st.data())
def test_py_and_utf16_offsets_round_trip(text: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(text)))
    assert utf16_to_py(text, py_to_utf16(text, index)) == index
