from __future__ import annotations

import pytest

from playground.edits.model import Span
from playground.edits.spans import OverlapError, apply_spans, normalize, trim


def test_it_trims_a_line_replacement_to_the_changed_characters() -> None:
    text = "def f():\n    return 1\n"
    span = trim(text, Span(9, 22, "    return 2\n"))
    assert span == Span(20, 21, "2")


def test_a_span_that_changes_nothing_disappears() -> None:
    assert trim("abc", Span(0, 3, "abc")) is None
    assert normalize("abc", [Span(0, 3, "abc")]) == []


def test_it_sorts_and_merges_touching_spans() -> None:
    text = "0123456789"
    spans = normalize(text, [Span(5, 6, "x"), Span(2, 5, "ab")])
    assert apply_spans(text, spans) == "01abx6789"
    assert len(spans) == 1


def test_two_insertions_at_one_place_keep_their_order() -> None:
    spans = normalize("ab", [Span(1, 1, "X"), Span(1, 1, "Y")])
    assert apply_spans("ab", spans) == "aXYb"


def test_it_refuses_overlapping_spans() -> None:
    with pytest.raises(OverlapError):
        normalize("abcdef", [Span(0, 3, "x"), Span(2, 4, "y")])


def test_trim_does_not_count_shared_characters_twice() -> None:
    # "aa" -> "aaa": prefix and suffix overlap; the op must insert exactly one "a".
    span = trim("aa", Span(0, 2, "aaa"))
    assert span is not None
    assert apply_spans("aa", [span]) == "aaa"
    assert span.end - span.start == 0
